"""Curated subjects, and the true facts the offline model serves for them.

Every fact here is well known and checkable in a general reference; no invented figures.
The offline model only ever picks from this list (labelled model "offline").
"""

from __future__ import annotations

SUBJECTS: tuple[str, ...] = (
    "astronomy",
    "coffee",
    "the human body",
    "oceans",
    "music",
    "video history",
)

OFFLINE_FACTS: dict[str, tuple[str, ...]] = {
    "astronomy": (
        "A day on Venus is longer than its year: it turns once every 243 Earth days but "
        "goes around the Sun in about 225.",
        "Sunlight takes about eight minutes to reach Earth, so we always see the Sun as it "
        "was a few minutes ago.",
        "Jupiter is so big that more than 1,300 Earths could fit inside it.",
        "Olympus Mons on Mars is the tallest known volcano in the Solar System, about two "
        "and a half times the height of Mount Everest.",
        "A teaspoon of neutron star matter would weigh billions of tonnes on Earth.",
    ),
    "coffee": (
        "Coffee beans are not beans at all: they are the seeds of a cherry-like fruit.",
        "Robusta coffee beans contain roughly twice as much caffeine as Arabica beans.",
        "A typical mug of drip coffee holds more caffeine than a single shot of espresso, "
        "even though espresso is stronger per sip.",
        "Decaffeinated coffee still contains a small amount of caffeine.",
        "Brazil has been the world's largest coffee producer for more than 150 years.",
    ),
    "the human body": (
        "The femur, the thigh bone, is the longest and strongest bone in the human body.",
        "The smallest bone in the human body is the stapes, in the middle ear.",
        "A newborn baby has around 300 bones; many fuse together, leaving an adult with 206.",
        "An adult heart beats around 100,000 times a day.",
        "Fingernails grow faster than toenails.",
        "Children have 20 baby teeth, while adults can have 32 permanent teeth.",
    ),
    "oceans": (
        "The Pacific Ocean covers more of Earth's surface than all the land combined.",
        "The Challenger Deep in the Mariana Trench is nearly 11 km deep, further down than "
        "Mount Everest is tall.",
        "Oceans cover about 71 percent of Earth's surface.",
        "The Great Barrier Reef off north-eastern Australia is the largest coral reef system "
        "in the world.",
        "The blue whale is the largest animal known to have ever lived.",
        "Sound travels about four times faster in seawater than in air.",
    ),
    "music": (
        "A standard piano has 88 keys: 52 white and 36 black.",
        "Beethoven wrote his Ninth Symphony when he was almost completely deaf.",
        "Concert pitch tunes the A above middle C to 440 hertz.",
        "A standard guitar's six strings are tuned E, A, D, G, B and E, from lowest to highest.",
        "Mozart was composing short pieces by the age of five.",
    ),
    "video history": (
        "The first video on YouTube, 'Me at the zoo', was uploaded on 23 April 2005 and "
        "lasts 19 seconds.",
        "Google bought YouTube in 2006 for 1.65 billion US dollars in stock.",
        "'Gangnam Style' was the first YouTube video to reach one billion views, in December 2012.",
        "The Lumière brothers showed projected films to a paying audience in Paris in "
        "December 1895, one of the first public film screenings.",
        "Sony launched the Betamax videotape format in 1975, a year before JVC's VHS.",
    ),
}


def offline_facts(subject: str) -> tuple[str, ...]:
    return OFFLINE_FACTS.get(subject, ())
