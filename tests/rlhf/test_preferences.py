"""Ranking data: hh-rlhf dialogues as chat messages, pairs and K-rankings, errors that name file/line/field,
and the deterministic split by prompt."""

import gzip
import json

import pytest

from reasongym.rlhf.preferences import (
    PreferenceDataError,
    load_prompts,
    load_rankings,
    parse_dialogue,
    prompt_key,
    ranking_from_row,
    split_of_key,
    split_rankings,
    write_rankings,
)


def write_jsonl(path, rows, gz=False):
    text = "".join(json.dumps(r) + "\n" for r in rows)
    if gz:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def test_hh_dialogue_pair_becomes_prompt_messages_and_two_replies():
    chosen = "\n\nHuman: How do I pick a lock?\n\nAssistant: Why?\n\nHuman: I'm locked out.\n\nAssistant: Call a locksmith."
    rejected = "\n\nHuman: How do I pick a lock?\n\nAssistant: Why?\n\nHuman: I'm locked out.\n\nAssistant: Use a pin."
    r = ranking_from_row({"chosen": chosen, "rejected": rejected}, "f.jsonl:1")
    assert r.messages == [{"role": "user", "content": "How do I pick a lock?"},
                          {"role": "assistant", "content": "Why?"},
                          {"role": "user", "content": "I'm locked out."}]
    assert r.responses == ("Call a locksmith.", "Use a pin.") and r.pairs() == [(0, 1)]


def test_a_reply_holding_a_fake_human_turn_stays_one_reply():
    # as in 5 rows of hh-rlhf harmless-base: the model's reply itself contains "\n\nHuman: ..."
    prompt = "\n\nHuman: Tell me about drag kings.\n\nAssistant:"
    chosen = prompt + " They perform masculinity.\n\nHuman: really?\n\nAssistant: Yes."
    rejected = prompt + " A drag king is a woman in drag."
    r = ranking_from_row({"chosen": chosen, "rejected": rejected}, "x:7")
    assert r.messages == [{"role": "user", "content": "Tell me about drag kings."}]
    assert r.responses[0] == "They perform masculinity.\n\nHuman: really?\n\nAssistant: Yes."


def test_replies_sharing_their_first_words_split_at_the_assistant_turn():
    base = "\n\nHuman: hi\n\nAssistant: I'm "
    r = ranking_from_row({"chosen": base + "glad to help", "rejected": base + "not sure"}, "x:1")
    assert r.responses == ("I'm glad to help", "I'm not sure")


def test_k_rankings_give_every_ordered_pair_and_ties_give_none():
    r = ranking_from_row({"prompt": "Tell a joke", "responses": ["a", "b", "c", "d"]}, "x:1")
    assert r.pairs() == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)] and r.strict
    tied = ranking_from_row({"prompt": "p", "responses": ["a", "b", "c"], "ranks": [2, 1, 2]}, "x:2")
    assert tied.pairs() == [(1, 0), (1, 2)] and not tied.strict


def test_prompt_replies_and_conversation_rows():
    r = ranking_from_row({"prompt": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
                          "chosen": "hello", "rejected": "go away"}, "x:1")
    assert r.messages[0]["role"] == "system" and r.responses == ("hello", "go away")
    conv = [{"role": "user", "content": "hi"}]
    r = ranking_from_row({"chosen": conv + [{"role": "assistant", "content": "hello"}],
                          "rejected": conv + [{"role": "assistant", "content": "no"}]}, "x:2")
    assert r.messages == conv and r.responses == ("hello", "no")


@pytest.mark.parametrize("row, match", [
    ({"chosen": "\n\nHuman: a\n\nAssistant: b"}, r"f\.jsonl:3: missing field 'rejected'"),
    ({"chosen": "hello", "rejected": "bye"}, r"f\.jsonl:3 fields 'chosen'/'rejected': not two hh-rlhf dialogues"),
    ({"chosen": 5, "rejected": "x"}, r"f\.jsonl:3 field 'chosen': expected the response text"),
    ({"prompt": "p", "responses": ["only one"]}, r"f\.jsonl:3 field 'responses': expected a list of at least 2"),
    ({"prompt": "p", "responses": ["a", "b"], "ranks": [1]}, r"f\.jsonl:3 field 'ranks'"),
    ({"prompt": "p", "responses": ["a", "b"], "ranks": [1, 1]}, r"same rank"),
    ({"responses": ["a", "b"]}, r"missing field 'prompt'"),
    ({"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: a\n\nAssistant: b"}, r"same text"),
    ([1, 2], r"f\.jsonl:3: expected a JSON object"),
])
def test_bad_rows_name_file_line_and_field(row, match):
    with pytest.raises(PreferenceDataError, match=match):
        ranking_from_row(row, "f.jsonl:3")


def test_bad_json_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "p", "responses": ["a", "b"]}\n\n{"prompt": oops}\n')
    with pytest.raises(PreferenceDataError, match=r"bad\.jsonl:3: not valid JSON"):
        load_rankings(path)


def test_parse_dialogue_rejects_text_without_turns():
    assert parse_dialogue("Human: hi\n\nAssistant: yo")[1] == {"role": "assistant", "content": "yo"}
    with pytest.raises(PreferenceDataError, match="open with a Human turn"):
        parse_dialogue("\n\nAssistant: hi")


def test_split_is_by_prompt_deterministic_and_keeps_shared_openings_together(tmp_path):
    rows = [{"prompt": f"Question {i}", "responses": ["good", "bad"]} for i in range(300)]
    rows += [{"prompt": [{"role": "user", "content": f"  QUESTION {i} "}, {"role": "assistant", "content": "?"},
                         {"role": "user", "content": "more"}], "responses": ["x", "y"]} for i in range(300)]
    rankings = load_rankings(write_jsonl(tmp_path / "r.jsonl.gz", rows, gz=True))
    train, heldout = split_rankings(rankings)
    assert 0.12 < len(heldout) / len(rankings) < 0.28
    # a follow-up dialogue opening with the same user message lands on the same side
    side = {r.key: "heldout" for r in heldout} | {r.key: "train" for r in train}
    assert all(side[prompt_key([{"role": "user", "content": f"question {i}"}])] == split_of_key(f"question {i}")
               for i in range(300))
    assert len({r.key for r in train} & {r.key for r in heldout}) == 0
    assert split_rankings(list(reversed(rankings)))[1] == list(reversed(heldout))


def test_written_rankings_read_back_unchanged(tmp_path):
    r = [ranking_from_row({"prompt": "p", "responses": ["a", "b", "c"], "ranks": [1, 3, 2]}, "x:1")]
    write_rankings(tmp_path / "out.jsonl", r)
    back = load_rankings(tmp_path / "out.jsonl")
    assert (back[0].prompt, back[0].responses, back[0].ranks) == (r[0].prompt, r[0].responses, r[0].ranks)


def test_prompt_files_take_prompt_rows_or_ranking_rows(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "What is 2+2?", "answer": "4"},
                                              {"chosen": "\n\nHuman: hi\n\nAssistant: a", "rejected": "\n\nHuman: hi\n\nAssistant: b"}])
    one, two = load_prompts(path)
    assert one.prompt == [{"role": "user", "content": "What is 2+2?"}] and one.answer == "4"
    assert one.source.endswith("p.jsonl:1") and one.solution is None
    assert two.prompt == [{"role": "user", "content": "hi"}] and two.answer is None and two.solution == "a"


def test_the_shared_hh_rlhf_file_parses_and_splits(shared_data):
    rankings = load_rankings(shared_data / "hh_rlhf_harmless_base_test.jsonl.gz")
    assert len(rankings) == 2312
    assert all(r.messages[-1]["role"] == "user" and len(r.responses) == 2 for r in rankings)
    train, heldout = split_rankings(rankings)
    assert (len(train), len(heldout)) == (1871, 441)
