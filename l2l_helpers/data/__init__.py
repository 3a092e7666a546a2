"""The images: reading and checking them, the course's data sets, and the simulator.

Lessons 00 (the data) and 09 (the semi-synthetic check on a real image).

- :mod:`.io`: reading, checking, pairing and writing images and folders of pairs;
- :mod:`.datasets`: pooch registry, committed results, folders turned into pairs;
- :mod:`.simulate`: simulated dual-labelled cells with a known ground truth;
- :mod:`.semisynthetic`: a real image's structure with synthetic label background and noise.
"""
