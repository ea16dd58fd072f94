"""The storage core: spaces, key encoding, atomic write batches, group commit, blobs, time."""
