"""The hub's database: the engine, the tables, their migrations, transactions and paging."""
