"""The engine layer: RocksDB, and nothing above it imports rocksdict."""
