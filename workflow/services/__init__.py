"""The handlers: each takes a unit of work (``uow``: who acts, when, on which campaign, in one transaction) and does
one thing a person or the timeline asks; what follows a transition is ``reactions``."""
