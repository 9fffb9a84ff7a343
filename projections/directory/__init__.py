"""The directory read model: operators (status, load, groups) and groups, as the API lists
them and routing reads them."""
