"""The images: reading and checking them, the course's data sets, and the simulator.

Lessons 00 (the data) and 09 (the semi-synthetic check on a real image).

- :mod:`.io`: reading, checking and writing images, and reading folders of pairs;
- :mod:`.outputs`: output folders a command owns (``open_output``, ``l2l_manifest.json``);
- :mod:`.registry`: the data registry (reading, writing, registering files);
- :mod:`.datasets`: fetching with pooch, committed results;
- :mod:`.pair_folders`: downloaded folders turned into ``input/`` and ``target/`` pairs;
- :mod:`.structures`: the simulator's cells and structure builders;
- :mod:`.simulate`: imaging them: simulated dual-labelled cells with a known ground truth;
- :mod:`.semisynthetic`: a real image's structure with synthetic label background and noise.
"""
