"""`mx.random`: seeding. The sampling functions (`mx.nd.random.uniform` ...) are generated from the registry."""
from ops import random_state


def seed(seed_state, ctx="all"):
    """Seed the generator every random kernel draws from; a seeded run repeats exactly."""
    random_state.seed(seed_state)
