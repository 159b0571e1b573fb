"""The escalation engine: state in database rows, a pipeline of small stages, channels.

``schedule`` and ``pipeline`` are pure (time is a parameter); ``rows``, ``deliveries``
and ``alarms`` read and write the database; ``channels`` sends; ``engine`` runs it all
as one task in the hub's lifespan.
"""
