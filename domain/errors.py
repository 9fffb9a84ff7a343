"""Named domain errors. The API maps each to an HTTP status and a stable ``code``."""


class DomainError(Exception):
    """A command that the current state of an aggregate forbids."""


class ChatClosed(DomainError):
    """The chat is closed: it takes no messages and no operator commands."""


class NotAssigned(DomainError):
    """The caller is neither the chat's operator nor a supervisor."""


class AlreadyIntercepted(DomainError):
    """Another operator holds the chat."""


class NotIntercepted(DomainError):
    """The operator must intercept the chat before writing in it."""


class NotQueued(DomainError):
    """The chat is not waiting in a queue."""


class NoCapacity(DomainError):
    """The operator already holds ``max_chats`` open chats."""


class NotWorking(DomainError):
    """Only operators in status ``working`` receive new chats."""


class OperatorDeactivated(DomainError):
    """The operator has been deactivated."""


class GroupDeleted(DomainError):
    """The group has been deleted."""


class AlreadyRated(DomainError):
    """A chat takes one rating."""


class NotClosed(DomainError):
    """A rating is accepted only after the chat is closed."""


class InvalidValue(DomainError):
    """A value outside what the domain accepts (a rating of 7, a status of 'asleep')."""


class ReservationTaken(DomainError):
    """A unique name (an e-mail, say) is already held by something else."""


class TopicRequired(DomainError):
    """The company requires a topic before a chat is closed."""


class EditsForbidden(DomainError):
    """The company forbids editing and deleting messages."""


class ReassignForbidden(DomainError):
    """Only supervisors reassign, unless the company lets operators do it too."""


class UnknownMessage(DomainError):
    """The chat has no message with that id."""


class InvitationExpired(DomainError):
    """The invitation code is unknown, already used, replaced by a newer one, or expired."""


class WrongPassword(DomainError):
    """The current password given does not match."""
