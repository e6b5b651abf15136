"""Tests of qlora.py --check, with the standard library only.

Run: python3 -m unittest discover -s finetune   (from the repository root)
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "qlora.py")
TESTDATA = os.path.join(HERE, "testdata")
sys.path.insert(0, HERE)

sys.dont_write_bytecode = True
import qlora  # noqa: E402  (the module must import without torch)


def run_check(*args):
    # -S keeps site-packages out, so a torch import would fail loudly.
    p = subprocess.run([sys.executable, "-S", SCRIPT, "--check", *args],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


class CheckTest(unittest.TestCase):
    def test_good(self):
        rc, out, err = run_check("--data", os.path.join(TESTDATA, "good.jsonl"))
        self.assertEqual(rc, 0, err)
        rep = json.loads(out)
        f = rep["files"][os.path.join(TESTDATA, "good.jsonl")]
        self.assertEqual(f["examples"], 3)
        self.assertEqual(f["classes"], {"down": 1, "up": 2})
        self.assertEqual(f["no_answer"], 0)
        self.assertGreater(f["tokens_estimate"]["max"], 0)
        self.assertNotIn("torch", sys.modules)

    def test_broken(self):
        cases = [
            ("no_assistant.jsonl", ":2: no assistant turn"),
            ("wrong_role.jsonl", ":2: message 0: role 'human' is not one of"),
            ("empty.jsonl", "empty.jsonl: no examples (empty file)"),
            ("empty_content.jsonl", ":3: message 1 (assistant): empty content"),
            ("bad_json.jsonl", ":2: invalid JSON"),
        ]
        for name, want in cases:
            with self.subTest(name):
                path = os.path.join(TESTDATA, name)
                rc, out, err = run_check("--data", path)
                self.assertEqual(rc, 1, "exit status; stderr %r" % err)
                self.assertEqual(out, "")
                self.assertIn("qlora.py: error: " + path, err)
                self.assertIn(want, err)

    def test_eval_file_checked(self):
        rc, _, err = run_check("--data", os.path.join(TESTDATA, "good.jsonl"),
                               "--eval", os.path.join(TESTDATA, "wrong_role.jsonl"))
        self.assertEqual(rc, 1)
        self.assertIn("wrong_role.jsonl:2:", err)

    def test_message_rules(self):
        u = {"role": "user", "content": "q"}
        a = {"role": "assistant", "content": "<answer>up</answer>"}
        s = {"role": "system", "content": "sys"}
        bad = [
            ({"id": "x"}, 'no "messages"'),
            ({"messages": []}, "non-empty list"),
            ({"messages": [u, a, u]}, "last message is 'user'"),
            ({"messages": [a]}, "first turn after the system message"),
            ({"messages": [u, s, a]}, "system message is allowed only first"),
            ({"messages": [u, u, a]}, "two user turns in a row"),
            ({"messages": [u, {"role": "assistant", "content": 3}]}, "content must be a string"),
        ]
        for obj, want in bad:
            with self.subTest(want):
                with self.assertRaises(qlora.CheckError) as cm:
                    qlora.check_example("f:1", obj)
                self.assertIn(want, str(cm.exception))
        self.assertEqual(len(qlora.check_example("f:1", {"messages": [s, u, a, u, a]})), 5)

    def test_config(self):
        with tempfile.TemporaryDirectory() as d:
            good = os.path.join(d, "good.json")
            with open(good, "w") as f:
                json.dump({"rank": 16, "alpha": 16, "target_modules": ["q_proj"]}, f)
            cfg = qlora.load_config(good)
            self.assertEqual((cfg["rank"], cfg["alpha"], cfg["learning_rate"], cfg["batch_size"]), (16, 16, 1e-4, 4))
            for raw, want in [
                ({"rnak": 8}, "unknown key 'rnak'"),
                ({"rank": 0}, "rank = 0"),
                ({"rank": True}, "rank = True"),
                ({"dropout": 1.0}, "dropout"),
                ({"lr_scheduler": "step"}, "lr_scheduler"),
                ({"target_modules": []}, "target_modules"),
                ([1, 2], "must be a JSON object"),
            ]:
                with self.subTest(want):
                    p = os.path.join(d, "bad.json")
                    with open(p, "w") as f:
                        json.dump(raw, f)
                    with self.assertRaises(qlora.CheckError) as cm:
                        qlora.load_config(p)
                    self.assertIn(want, str(cm.exception))
            rc, _, err = run_check("--data", os.path.join(TESTDATA, "good.jsonl"), "--config", p)
            self.assertEqual(rc, 1)
            self.assertIn("bad.json", err)

    def test_defaults(self):
        c = qlora.load_config(None)
        self.assertEqual((c["rank"], c["alpha"], c["dropout"], c["learning_rate"], c["batch_size"],
                          c["lr_scheduler"], c["warmup_steps"]), (32, 32, 0.0, 1e-4, 4, "linear", 5))
        self.assertEqual(c["target_modules"],
                         ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])

    def test_length_and_balance_warnings(self):
        with tempfile.TemporaryDirectory() as d:
            data = os.path.join(d, "d.jsonl")
            with open(data, "w") as f:
                for i in range(12):
                    cls = "up" if i else "down"
                    f.write(json.dumps({"messages": [{"role": "user", "content": "x" * 400},
                                                     {"role": "assistant", "content": "<answer>%s</answer>" % cls}]}) + "\n")
            cfgp = os.path.join(d, "c.json")
            with open(cfgp, "w") as f:
                json.dump({"max_length": 64}, f)
            rc, out, err = run_check("--data", data, "--config", cfgp)
            self.assertEqual(rc, 0, err)
            rep = json.loads(out)
            self.assertEqual(rep["files"][data]["over_max_length"], 12)
            self.assertTrue(any("max_length 64" in w for w in rep["warnings"]), rep["warnings"])
            self.assertTrue(any("imbalanced" in w for w in rep["warnings"]), rep["warnings"])

    def test_last_checkpoint(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertIsNone(qlora.last_checkpoint(d))
            for n in (5, 40, 100):
                os.mkdir(os.path.join(d, "checkpoint-%d" % n))
            open(os.path.join(d, "checkpoint-999"), "w").close()  # a file, not a checkpoint
            self.assertEqual(qlora.last_checkpoint(d), os.path.join(d, "checkpoint-100"))

    def test_training_needs_model(self):
        p = subprocess.run([sys.executable, "-S", SCRIPT, "--data", os.path.join(TESTDATA, "good.jsonl")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("model is required to train", p.stderr)


if __name__ == "__main__":
    unittest.main()
