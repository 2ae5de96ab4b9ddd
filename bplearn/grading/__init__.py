"""Grading: exercises judged outside the learner's code (instructors, and learners alone via submit).

* ``spec``       the exercise format (docs/exercise_format.md): Exercise, Part, probes, Mutant
* ``judge``      the trusted side: inputs, program, reading plain-data answers, each part's judging fields
* ``runner``     the learner's side, run inside the sandbox
* ``sandbox``    bubblewrap + cgroup limits + an unprivileged user; per-process fallback
* ``job``        one submission in, one JSON result out (``python -m bplearn.grading job``)
* ``autograde``  a class: jobs side by side, resumable, merged into CSV/JSON (and nbgrader's gradebook)
* ``selfgrade``  ``bplearn submit`` and ``bplearn progress`` for a learner alone
* ``generate``   solutions/ -> exercises/ with nbgrader, and the visible checks
* ``lessons``    solutions/lessons/ -> course/, executed

The learner's side lives in ``bplearn.feedback`` (check cells, the verdict on one part, the
shipped visible data, the probe); grading imports it, never the other way round.
"""
