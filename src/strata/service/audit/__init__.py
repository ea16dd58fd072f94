"""The audit trail: every API call as a CloudTrail record (``entries``), kept in the store
(``trail``)."""
