"""DynamoDB semantics: tables, items, expressions, indexes, transactions."""
