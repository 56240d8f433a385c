"""Native unit tests of the rules (the same cases as the Rust plugin's):
python3 -m unittest discover -s plugins/python/daily-checkin-py"""

import json
import unittest

import logic
from logic import Config, state


EN = Config(language="en")


class Rules(unittest.TestCase):
    def test_texts_language_and_overrides(self):
        self.assertEqual(logic.checked_in_message(Config(), "Amy", 1, 10), "@Amy 签到成功：连续第 1 天，+10 积分。")
        self.assertEqual(logic.already_message(EN, "Ann", 3), "@Ann already checked in today (streak 3).")
        c = Config.parse('{"language": "en", "texts": {"already": "{member}: not again"}}').validate()
        self.assertEqual(logic.already_message(c, "Ann", 3), "Ann: not again")
        with self.assertRaises(ValueError):
            Config.parse('{"texts": {"nope": "x"}}').validate()
        with self.assertRaises(ValueError):
            Config.parse('{"language": "fr"}')
        self.assertEqual(logic.fill("{a}{b}{a} { {a} } {a", {"a": 1}), "1{b}1 { 1 } {a")
        self.assertEqual(logic.placeholders("{a} {b_2} {a} {} {x y}"), ["a", "b_2"])

    def test_defaults_validation_and_commands(self):
        c = Config.parse("")
        self.assertEqual(c.commands, ["/checkin", "签到", "打卡"])
        self.assertTrue(c.is_checkin(" 签到 ") and c.is_checkin("/checkin"))
        self.assertFalse(c.is_checkin("/checkin now"))
        self.assertTrue(c.is_leaderboard("/rank"))
        with self.assertRaises(ValueError):
            Config.parse('{"base_reward": -1}').validate()
        with self.assertRaises(ValueError):
            Config.parse('{"leaderboard_size": 0}').validate()
        with self.assertRaises(ValueError):
            Config.parse('{"nope": 1}')
        with self.assertRaises(ValueError):
            Config.parse('{"base_reward": 1.5}')

    def test_schema_lists_every_property_with_default(self):
        v = json.loads(logic.config_schema())
        self.assertEqual(len(v["properties"]), 9)
        self.assertEqual(len(v["properties"]["texts"]["properties"]), len(logic.TEXTS))
        for p in v["properties"].values():
            self.assertIn("default", p)
            self.assertIsInstance(p["description"], str)
        self.assertTrue(logic.config_schema().startswith('{"$schema":"https://json-schema.org/draft/2020-12/schema","additionalProperties":false,'))

    def test_day_index_uses_local_midnight_and_floors(self):
        t = 1_704_124_800_000
        self.assertEqual(logic.day_index(t, 0), 19_723)
        self.assertEqual(logic.day_index(t, 480), 19_724)
        self.assertEqual(logic.day_index(t - 1, 480), 19_723)
        self.assertEqual(logic.day_index(-1, 0), -1)
        self.assertEqual(logic.day_index(0, -60), -1)

    def test_reward_grows_with_streak_up_to_cap(self):
        c = Config()
        self.assertEqual([logic.reward(c, s) for s in (1, 2, 11, 50, 2**32 - 1)], [10, 12, 30, 30, 30])

    def test_streak_continues_resets_or_refuses(self):
        c = Config()
        self.assertEqual(logic.check_in(None, 100, c), ("done", state(100, 1, 1, 10), 10))
        prev = state(99, 3, 7, 80)
        self.assertEqual(logic.check_in(prev, 100, c), ("done", state(100, 4, 8, 96), 16))
        self.assertEqual(logic.check_in(prev, 101, c), ("done", state(101, 1, 8, 90), 10))
        self.assertEqual(logic.check_in(prev, 99, c), ("already", 3))
        self.assertEqual(logic.check_in(prev, 98, c), ("already", 3))

    def test_storage_format_is_serde_json(self):
        self.assertEqual(logic.to_json_bytes(state(1, 2, 3, 4)),
                         b'{"last_day":1,"streak":2,"total_days":3,"total_points":4}')
        with self.assertRaises(ValueError) as e:
            logic.parse_state("member:42", b"{oops")
        self.assertIn("member:42", str(e.exception))

    def test_ranking_and_leaderboard(self):
        entries = [("c", state(1, 2, 9, 0)), ("b", state(1, 5, 5, 0)), ("a", state(1, 2, 9, 0)), ("d", state(1, 2, 10, 0))]
        self.assertEqual([i for i, _ in logic.rank(entries, 10)], ["b", "d", "a", "c"])
        self.assertEqual(len(logic.rank(entries, 2)), 2)
        self.assertEqual(logic.leaderboard_message(EN, []), "No check-ins yet.")
        self.assertEqual(logic.leaderboard_message(EN, [("Ann", state(1, 5, 12, 0)), ("u2", state(1, 1, 1, 0))]),
                         "Check-in leaderboard:\n1. Ann — streak 5, 12 days\n2. u2 — streak 1, 1 days")

    def test_reminder(self):
        now = 1_772_296_200_000
        self.assertEqual(logic.next_local_hour(now, 480, 9), 1_772_326_800_000)
        self.assertEqual(logic.next_local_hour(now, 480, 0), 1_772_294_400_000 + 86_400_000)
        self.assertEqual(logic.reminder_message(EN), "Daily check-in is open: send /checkin to keep your streak.")


if __name__ == "__main__":
    unittest.main()
