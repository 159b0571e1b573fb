"""The escalation engine: state in database rows, a pipeline of small stages, channels.

``schedule`` and ``pipeline`` are pure (time is a parameter); ``deliveries``, ``steps``
and ``alarms`` read and write the database (a call's escalation row is written with the
call, in ``hub/calls/escalation_rows.py``); ``channels`` sends; ``engine`` runs it all
as one task in the hub's lifespan.
"""
