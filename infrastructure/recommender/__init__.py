"""The recommender engine (torch-geometric LightGCN and a graph filter)."""
