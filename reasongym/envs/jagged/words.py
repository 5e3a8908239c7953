"""Letter-level word tasks: count a letter, count a substring, reverse a word, spell a word.

A language model sees tokens, not characters, so these trip models that solve harder problems. The words
come from a small list shipped here (no network at run time) and, at higher difficulty, from pronounceable
pseudo-words (consonant-vowel syllables with some doubled letters), so the task space is endless and no
answer can be memorised. Worked solutions spell the word out letter by letter, the step that makes
these tasks easy; `tool_code` does it in Python.

    count_letter(np.random.default_rng(0), 3)   # 'How many times does the letter "r" appear in "strawberry"?'

difficulty 1: short common words; 2: longer words; 3: long words with doubled letters; 4: pseudo-words of
10-13 letters; 5: pseudo-words of 14-18 letters. The split key is the word (and the letter or
substring), so held-out questions are never asked in training.
"""

from __future__ import annotations

import numpy as np

from reasongym.core import Task
from reasongym.envs.jagged.common import check_difficulty, choice, make_task, randint

SHORT = ("apple", "bread", "chair", "dance", "eagle", "flute", "grape", "house", "igloo", "juice", "kite",
         "lemon", "mango", "night", "ocean", "piano", "queen", "river", "snake", "tiger", "uncle", "voice",
         "water", "yacht", "zebra", "cloud", "storm", "plant", "sweet", "green", "sheep", "llama", "puppy",
         "hello", "world", "pizza", "radar", "level", "kayak", "civic", "otter", "hippo", "robot", "smile",
         "table", "wheel", "moon", "tree", "book", "door")
LONGER = ("elephant", "computer", "mountain", "keyboard", "sandwich", "umbrella", "dinosaur", "language",
          "treasure", "hospital", "triangle", "calendar", "airplane", "painting", "sunshine", "question",
          "blueberry", "chocolate", "adventure", "butterfly", "pineapple", "telephone", "notebook",
          "basketball", "television", "watermelon", "friendship", "crocodile", "orchestra", "volcano",
          "tomorrow", "vanilla", "penguin", "kangaroo", "octopus", "dolphin", "squirrel", "cucumber")
DOUBLED = ("strawberry", "mississippi", "bookkeeper", "committee", "occurrence", "possession", "assessment",
           "banana", "balloon", "raspberry", "necessary", "embarrass", "accommodate", "successful",
           "parallel", "millennium", "tennessee", "coffee", "address", "giraffe", "hippopotamus",
           "broccoli", "cinnamon", "vacuum", "referee", "bubblegum", "coconut", "lollipop", "pepperoni",
           "mammal", "aardvark", "abbreviation", "assassination", "cappuccino", "effervescence",
           "illusion", "irresistible", "kookaburra", "narrowness", "sassafras", "unnecessary", "woodpecker")
CONSONANTS, VOWELS = "bcdfghklmnprstvz", "aeiou"


def pseudo_word(rng: np.random.Generator, low: int, high: int) -> str:
    """A pronounceable made-up word of low..high letters; about one syllable in four doubles a letter."""
    target, out = randint(rng, low, high), ""
    while len(out) < target:
        c, v = choice(rng, CONSONANTS), choice(rng, VOWELS)
        out += (c + c if rng.random() < 0.25 and out else c) + v
    return out[:target]


def pick_word(rng: np.random.Generator, difficulty: int) -> str:
    if difficulty == 1:
        return choice(rng, SHORT)
    if difficulty == 2:
        return choice(rng, LONGER)
    if difficulty == 3:
        return choice(rng, DOUBLED)
    return pseudo_word(rng, 10, 13) if difficulty == 4 else pseudo_word(rng, 14, 18)


def spelled(word: str) -> str:
    return "-".join(word)


def count_letter(rng: np.random.Generator, difficulty: int) -> Task:
    """How many times a letter occurs in a word (sometimes zero times from difficulty 3 on)."""
    d = check_difficulty(difficulty)
    word = pick_word(rng, d)
    absent = [c for c in "abcdefghijklmnopqrstuvwxyz" if c not in word]
    letter = choice(rng, absent) if d >= 3 and absent and rng.random() < 0.15 else choice(rng, word)
    where = [i + 1 for i, c in enumerate(word) if c == letter]
    n = len(where)
    found = (f'"{letter}" is at position{"s" if n > 1 else ""} {", ".join(map(str, where))}, so it appears '
             f'{n} time{"s" if n != 1 else ""}.' if n else f'"{letter}" is not among them, so it appears 0 times.')
    steps = [f"Spell the word letter by letter: {spelled(word)} ({len(word)} letters).", found]
    return make_task("count_letter", d, f'How many times does the letter "{letter}" appear in "{word}"?',
                     str(n), steps, f"{word}:{letter}", answer_type="int",
                     tool_code=f'print("{word}".count("{letter}"))')


def count_substring(rng: np.random.Generator, difficulty: int) -> Task:
    """How many times a two- or three-letter string occurs in a word, overlapping occurrences counted."""
    d = check_difficulty(difficulty)
    word = pick_word(rng, d)
    size = 2 if d <= 3 or rng.random() < 0.5 else 3
    start = randint(rng, 0, len(word) - size)
    part = word[start:start + size]
    where = [i + 1 for i in range(len(word) - size + 1) if word[i:i + size] == part]
    steps = [f"Spell the word letter by letter: {spelled(word)}.",
             f'"{part}" starts at position{"s" if len(where) > 1 else ""} {", ".join(map(str, where))}, '
             f"so it occurs {len(where)} time{'s' if len(where) != 1 else ''}."]
    question = (f'How many times does "{part}" occur in "{word}"? Count overlapping occurrences.')
    code = f's, p = "{word}", "{part}"\nprint(sum(s.startswith(p, i) for i in range(len(s))))'
    return make_task("count_substring", d, question, str(len(where)), steps, f"{word}:{part}",
                     answer_type="int", tool_code=code)


def reverse_word(rng: np.random.Generator, difficulty: int) -> Task:
    """A word written backwards (a palindrome is its own reverse, and the solution says so)."""
    d = check_difficulty(difficulty)
    word = pick_word(rng, d)
    back = word[::-1]
    steps = [f"Spell the word letter by letter: {spelled(word)}.",
             f"Read the letters from last to first: {spelled(back)}.", f"Joined up: {back}."]
    return make_task("reverse_word", d, f'Write the word "{word}" backwards.', back, steps, word,
                     answer_type="word", tool_code=f'print("{word}"[::-1])')


def spell_word(rng: np.random.Generator, difficulty: int) -> Task:
    """A word spelled letter by letter with hyphens (s-t-a-r), the answer compared letter for letter."""
    d = check_difficulty(difficulty)
    word = pick_word(rng, d)
    steps = [f"The word {word} has {len(word)} letters.", f"In order: {spelled(word)}."]
    question = f'Spell the word "{word}" letter by letter, with a hyphen between letters (like c-a-t).'
    return make_task("spell_word", d, question, spelled(word), steps, word, answer_type="letters",
                     tool_code=f'print("-".join("{word}"))')
