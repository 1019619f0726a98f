"""Amazon ECR credential helper for Docker and OCI clients (docker-credential-ecr-login)."""

__version__ = "0.2.0"
