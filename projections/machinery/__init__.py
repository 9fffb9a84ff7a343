"""What runs the read models: their base class, the runner that follows the log, the
position waiter (read-your-writes) and rebuild."""
