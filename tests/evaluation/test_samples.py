"""samples.jsonl rows read typed verdicts: maj@k votes through the env's verifier's `vote_key` (not the
math normaliser for every env), format failures from the verdict's status, older info-only verifiers
still read, and maj@k is reported only for envs whose verifier votes.

    python -m pytest -q tests/evaluation/test_samples.py
"""

from reasongym.core import Completion, Rollout, Task, Turn, Verdict, Verifier
from reasongym.evaluation.samples import answer_of, format_failure, sample_row, vote_of
from reasongym.evaluation.scoring import task_scores
from reasongym.verifiers.math.verifier import MathVerifier

TASK = Task.create("What is 1/2 as a decimal?", "0.5")


class Lowercase(Verifier):
    """A verifier of another kind: the same answer in any letter case is one vote."""

    def verify(self, task, completion):
        word = completion.strip().split()[-1] if completion.strip() else None
        return Verdict(float(word == "yes"), word == "yes", answer=word,
                       status="ok" if word else "no_answer")

    def vote_key(self, verdict):
        return verdict.answer.lower() if verdict.answer else None


def rollout(text: str, verifier: Verifier) -> Rollout:
    verdict = verifier.verify(TASK, text)
    return Rollout(TASK, [Turn(TASK.prompt, Completion(text), verdict.reward, verdict)], True, False)


def test_math_votes_are_normalised_by_the_math_verifier():
    math = MathVerifier()
    votes = {vote_of(math.verify(TASK, t), math) for t in (r"\boxed{0.5}", r"\boxed{\frac12}", r"\boxed{1/2}")}
    assert len(votes) == 1 and None not in votes
    assert vote_of(math.verify(TASK, "no box here"), math) is None  # no answer, no vote
    assert format_failure(math.verify(TASK, "no box here")) is True
    assert format_failure(math.verify(TASK, r"\boxed{3}")) is False


def test_other_verifiers_vote_with_their_own_key_not_the_math_normaliser():
    lower = Lowercase()
    assert vote_of(lower.verify(TASK, "I say YES"), lower) == vote_of(lower.verify(TASK, "yes"), lower) == "yes"
    assert format_failure(lower.verify(TASK, "   ")) is True
    row = sample_row("p", "env", "sample", 0, rollout("I say Yes", lower), lower)
    assert row["vote"] == "yes" and row["extracted"] == "Yes" and row["status"] == "ok" and row["correct"] is False


def test_info_only_verdicts_of_older_verifiers_still_read():
    old = Verdict(1.0, True, {"extracted": r"\frac{1}{2}"})
    assert answer_of(old) == r"\frac{1}{2}" and format_failure(old) is False
    assert vote_of(old, MathVerifier()) == vote_of(MathVerifier().verify(TASK, r"\boxed{0.5}"), MathVerifier())
    assert vote_of(old, None) == r"\frac{1}{2}"  # no verifier: the answer as written
    assert format_failure(Verdict(0.0, False, {"extracted": None})) is True
    assert format_failure(Verdict(0.0, False, {"status": "no_code"})) is True
    assert format_failure(Verdict(0.5, False, {"rm_score": 0.5})) is None  # a reward model extracts nothing


def test_maj_at_k_only_where_the_verifier_votes():
    math = MathVerifier()
    texts = [r"\boxed{0.5}", r"\boxed{1/2}", r"\boxed{7}"]  # two of three agree (as numbers) and are right
    rows = [sample_row("p", "math", "sample", j, rollout(t, math), math) for j, t in enumerate(texts)]
    scores = task_scores({TASK.id: {"sample": rows}}, [TASK], samples=3, greedy=False)
    assert scores.values["maj@3"].tolist() == [1.0]

    class Silent(Verifier):  # e.g. a learned reward: no answer, so no vote
        def verify(self, task, completion):
            return Verdict(0.3, False, {"rm_score": 0.3})

    rows = [sample_row("p", "rm", "sample", j, rollout("hi", Silent()), Silent()) for j in range(3)]
    assert "maj@3" not in task_scores({TASK.id: {"sample": rows}}, [TASK], samples=3, greedy=False).values
