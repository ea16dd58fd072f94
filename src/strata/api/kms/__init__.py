"""The KMS protocol (JSON 1.1, ``X-Amz-Target: TrentService.<Operation>``)."""
