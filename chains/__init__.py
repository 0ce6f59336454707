"""ZERO's ready chains, each built on ``ModelManager``'s router (``build(...) -> Runnable``)."""
