"""The domain of a 双随机 joint inspection campaign, and its persistence.

Domain modules here import no framework (no Prefect, no SQLAlchemy, no Click):
persistence lives in ``workflow.persistence`` and the services in
``workflow.services`` wire the two together, taking their collaborators
(session, clock, mailer) as parameters.
"""
