"""Friendly, random run names such as `brave-otter`: easy to say aloud, unlikely to repeat soon."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber", "agile", "amiable", "ancient", "ardent", "azure", "bold", "brave", "breezy", "bright", "brisk",
    "calm", "candid", "careful", "cheerful", "clever", "cobalt", "cosmic", "crimson", "curious", "daring",
    "dapper", "eager", "earnest", "electric", "elegant", "emerald", "fearless", "festive", "fiery", "gentle",
    "gleaming", "golden", "graceful", "hardy", "hearty", "humble", "icy", "jade", "jolly", "jovial", "keen",
    "kind", "lively", "lucky", "lunar", "magnetic", "mellow", "merry", "mighty", "misty", "modest", "nimble",
    "noble", "olive", "opal", "patient", "peppy", "placid", "plucky", "polite", "proud", "quick", "quiet",
    "radiant", "rapid", "rosy", "ruby", "rustic", "sandy", "scarlet", "serene", "sharp", "shiny", "silent",
    "silver", "sleek", "smooth", "snowy", "solar", "spirited", "spry", "steady", "stellar", "stoic", "sturdy",
    "sunny", "swift", "tidy", "tranquil", "trusty", "upbeat", "valiant", "vivid", "warm", "wise", "witty",
    "zesty",
)

_NOUNS = (
    "albatross", "alpaca", "antelope", "badger", "beaver", "bison", "bobcat", "buffalo", "camel", "caribou",
    "cheetah", "cobra", "condor", "coyote", "crane", "dingo", "dolphin", "eagle", "egret", "falcon", "ferret",
    "finch", "flamingo", "fox", "gazelle", "gecko", "gibbon", "gopher", "heron", "hippo", "ibis", "impala",
    "jackal", "jaguar", "kestrel", "kingfisher", "koala", "lemur", "leopard", "lion", "llama", "lynx", "macaw",
    "magpie", "manatee", "marmot", "meerkat", "mink", "moose", "narwhal", "newt", "ocelot", "okapi", "orca",
    "osprey", "otter", "owl", "panda", "panther", "parrot", "pelican", "penguin", "puffin", "quail", "rabbit",
    "raccoon", "raven", "seal", "shrew", "sparrow", "stork", "swan", "tapir", "tiger", "toucan", "turtle",
    "vulture", "walrus", "weasel", "whale", "wolf", "wombat", "yak", "zebra",
)


def generate_run_name(rng: random.Random | None = None) -> str:
    """A name like `brave-otter` for a run that was given none."""
    r = rng or random
    return f"{r.choice(_ADJECTIVES)}-{r.choice(_NOUNS)}"
