"""The DynamoDB JSON protocol (X-Amz-Target DynamoDB_20120810.*)."""
