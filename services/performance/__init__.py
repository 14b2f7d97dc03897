"""Performance data collection: scorecards, figures, RAG, and the chase of late figures."""
