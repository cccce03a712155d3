"""The Models context in GraphQL: trained models and which one each engine serves."""
