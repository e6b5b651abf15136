#!/usr/bin/env python3
"""QLoRA fine-tuning of a causal LM on labelfree's exported SFT data.

labelfree's filter.Export writes JSON Lines in the chat "messages" format:

    {"messages":[{"role":"system","content":"..."},{"role":"user","content":"..."},
                 {"role":"assistant","content":"<think>\\n...\\n</think>\\n\\n<answer>up</answer>"}],
     "id":"q0001","trace":0}

This script trains a LoRA adapter on a 4-bit (NF4, double quantisation,
bf16 compute) base model with PEFT and TRL, with the loss on the final
assistant turn only: each line becomes a conversational prompt-completion
pair (prompt = every message before the last, completion = the last,
assistant, message), and TRL's SFTTrainer with completion_only_loss=True
masks the prompt's tokens out of the loss.

Usage:

    qlora.py --check --data train.jsonl [--eval validation.jsonl] [--config cfg.json]
    qlora.py --data train.jsonl [--eval validation.jsonl] --config cfg.json

--check validates the configuration and the data with the Python standard
library only (nothing of torch is imported), prints one JSON object
{"event":"check",...} on stdout and exits 0, or prints "qlora.py: error:
FILE:LINE: message" on stderr and exits 1. Training needs the packages of
requirements.txt and a CUDA GPU.

Protocol (what labelfree's Go package finetune reads): stdout carries only
JSON objects, one per line, each with an "event":

    {"event":"start","resume_from":null|"DIR","examples":N,"total_steps":N}
    {"event":"progress","step":N,"total_steps":N,"epoch":F,"loss":F,"lr":F,
     "tokens_per_second":F,"eta_seconds":F}
    {"event":"stopped","checkpoint":"DIR"}        (after SIGTERM)
    {"event":"result","adapter_dir":"DIR","steps":N,"train_loss":F}

Everything else (library logs, warnings, tracebacks) goes to stderr. On
SIGTERM the script saves a checkpoint at the end of the current step and
exits with status 143; a later run with the same output_dir resumes from
the last checkpoint (output_dir/checkpoint-N).
"""

import argparse
import json
import math
import os
import re
import signal
import sys
import time

# The defaults follow the published recipe: rank 32, alpha 32, dropout 0,
# lr 1e-4, batch 4, linear schedule with 5 warm-up steps, LoRA on the seven
# attention and MLP projections of a Llama/Qwen-style decoder.
DEFAULTS = {
    "model": None,  # Hugging Face model id or local directory; required to train
    "output_dir": None,  # checkpoints and the adapter; required to train
    "rank": 32,
    "alpha": 32,
    "dropout": 0.0,
    "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "learning_rate": 1e-4,
    "batch_size": 4,
    "gradient_accumulation_steps": 1,
    "epochs": 1.0,
    "max_steps": 0,  # 0: train for epochs
    "warmup_steps": 5,
    "lr_scheduler": "linear",
    "weight_decay": 0.0,
    "optim": "paged_adamw_8bit",
    "max_length": 4096,  # tokens; longer examples are truncated (and warned about by --check)
    "seed": 3407,
    "save_steps": 50,
    "save_total_limit": 3,
    "logging_steps": 1,
    "gradient_checkpointing": True,
    "chars_per_token": 3.5,  # --check's token-length estimate
}

SCHEDULERS = {"linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial"}
ROLES = ("system", "user", "assistant")
ANSWER_RE = re.compile(r"<answer>(.*?)</answer>", re.S)
ADAPTER_SUBDIR = "adapter"


class CheckError(Exception):
    """A problem with the configuration or the data, located by file and line."""

    def __init__(self, where, msg):
        super().__init__("%s: %s" % (where, msg))


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def load_config(path):
    """Returns DEFAULTS overridden by the JSON object in path (None: defaults)."""
    cfg = dict(DEFAULTS)
    cfg["target_modules"] = list(DEFAULTS["target_modules"])
    if path is None:
        return cfg
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except OSError as e:
        raise CheckError(path, "cannot read: %s" % e.strerror)
    except json.JSONDecodeError as e:
        raise CheckError("%s:%d" % (path, e.lineno), "invalid JSON: %s" % e.msg)
    if not isinstance(raw, dict):
        raise CheckError(path, "the configuration must be a JSON object")
    for k, v in raw.items():
        if k not in DEFAULTS:
            raise CheckError(path, "unknown key %r (known: %s)" % (k, ", ".join(sorted(DEFAULTS))))
        cfg[k] = v
    validate_config(path, cfg)
    return cfg


def validate_config(path, c):
    def bad(k, want):
        raise CheckError(path, "%s = %r: want %s" % (k, c[k], want))

    for k in ("model", "output_dir"):
        if c[k] is not None and (not isinstance(c[k], str) or not c[k]):
            bad(k, "a non-empty string")
    for k in ("rank", "batch_size", "gradient_accumulation_steps", "max_length", "save_steps", "logging_steps"):
        if not _is_int(c[k]) or c[k] < 1:
            bad(k, "an integer >= 1")
    for k in ("max_steps", "warmup_steps", "seed", "save_total_limit"):
        if not _is_int(c[k]) or c[k] < 0:
            bad(k, "an integer >= 0")
    if not _is_num(c["alpha"]) or c["alpha"] <= 0:
        bad("alpha", "a number > 0")
    if not _is_num(c["dropout"]) or not 0 <= c["dropout"] < 1:
        bad("dropout", "a number in [0, 1)")
    if not _is_num(c["learning_rate"]) or c["learning_rate"] <= 0:
        bad("learning_rate", "a number > 0")
    if not _is_num(c["epochs"]) or c["epochs"] <= 0:
        bad("epochs", "a number > 0")
    if not _is_num(c["weight_decay"]) or c["weight_decay"] < 0:
        bad("weight_decay", "a number >= 0")
    if not _is_num(c["chars_per_token"]) or c["chars_per_token"] <= 0:
        bad("chars_per_token", "a number > 0")
    if c["lr_scheduler"] not in SCHEDULERS:
        bad("lr_scheduler", "one of " + ", ".join(sorted(SCHEDULERS)))
    if not isinstance(c["optim"], str) or not c["optim"]:
        bad("optim", "a non-empty string")
    if not isinstance(c["gradient_checkpointing"], bool):
        bad("gradient_checkpointing", "true or false")
    tm = c["target_modules"]
    if not isinstance(tm, list) or not tm or not all(isinstance(m, str) and m for m in tm):
        bad("target_modules", "a non-empty list of module names")


def check_example(where, obj):
    """Checks one decoded line; returns its messages."""
    if not isinstance(obj, dict):
        raise CheckError(where, "want a JSON object, got %s" % type(obj).__name__)
    msgs = obj.get("messages")
    if msgs is None:
        raise CheckError(where, 'no "messages"')
    if not isinstance(msgs, list) or not msgs:
        raise CheckError(where, '"messages" must be a non-empty list')
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            raise CheckError(where, "message %d is not an object" % i)
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise CheckError(where, "message %d: role %r is not one of %s" % (i, role, ", ".join(ROLES)))
        if role == "system" and i != 0:
            raise CheckError(where, "message %d: a system message is allowed only first" % i)
        if not isinstance(content, str):
            raise CheckError(where, "message %d (%s): content must be a string" % (i, role))
        if not content.strip():
            raise CheckError(where, "message %d (%s): empty content" % (i, role))
    turns = [m["role"] for m in msgs if m["role"] != "system"]
    if "assistant" not in turns:
        raise CheckError(where, "no assistant turn (nothing to train on)")
    if turns[-1] != "assistant":
        raise CheckError(where, "the last message is %r; it must be the assistant turn that is trained on" % turns[-1])
    if turns[0] != "user":
        raise CheckError(where, "the first turn after the system message must be from the user, not %r" % turns[0])
    for a, b in zip(turns, turns[1:]):
        if a == b:
            raise CheckError(where, "two %s turns in a row" % a)
    return msgs


def read_examples(path):
    """Yields (line number, messages) for each line of the JSONL file path."""
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise CheckError(path, "cannot read: %s" % e.strerror)
    n = 0
    with f:
        for lineno, line in enumerate(f, 1):
            where = "%s:%d" % (path, lineno)
            if not line.strip():
                raise CheckError(where, "empty line")
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise CheckError(where, "invalid JSON: %s (at character %d)" % (e.msg, e.pos + 1))
            n += 1
            yield lineno, check_example(where, obj)
    if n == 0:
        raise CheckError(path, "no examples (empty file)")


def answer_class(content):
    """The text of the last <answer>…</answer> of content, or None."""
    found = ANSWER_RE.findall(content)
    return found[-1].strip().lower() if found else None


def check(cfg, data, eval_data=None):
    """Validates the data files; returns the report printed by --check."""
    report = {"event": "check", "ok": True, "files": {}, "warnings": []}
    cpt = cfg["chars_per_token"]
    for path in [data] + ([eval_data] if eval_data else []):
        classes, lengths, no_answer, too_long = {}, [], 0, []
        for lineno, msgs in read_examples(path):
            # The chat template adds a few tokens per message.
            chars = sum(len(m["content"]) for m in msgs)
            tokens = int(math.ceil(chars / cpt)) + 8 * len(msgs)
            lengths.append(tokens)
            if tokens > cfg["max_length"]:
                too_long.append(lineno)
            cls = answer_class(msgs[-1]["content"])
            if cls is None:
                no_answer += 1
            else:
                classes[cls] = classes.get(cls, 0) + 1
        lengths.sort()
        n = len(lengths)
        rep = {
            "examples": n,
            "classes": dict(sorted(classes.items())),
            "no_answer": no_answer,
            "tokens_estimate": {
                "mean": round(sum(lengths) / n, 1),
                "p95": lengths[min(n - 1, int(math.ceil(0.95 * n)) - 1)],
                "max": lengths[-1],
            },
            "over_max_length": len(too_long),
        }
        report["files"][path] = rep
        if too_long:
            report["warnings"].append(
                "%s: %d examples may exceed max_length %d tokens and be truncated (first at line %d)"
                % (path, len(too_long), cfg["max_length"], too_long[0]))
        if no_answer:
            report["warnings"].append("%s: %d assistant turns have no <answer>…</answer>" % (path, no_answer))
        if len(classes) > 1:
            lo, hi = min(classes.values()), max(classes.values())
            if hi > 10 * lo:
                report["warnings"].append(
                    "%s: classes are imbalanced (%s)" % (path, ", ".join("%s %d" % kv for kv in sorted(classes.items()))))
    return report


def last_checkpoint(output_dir):
    """The output_dir/checkpoint-N directory with the largest N, or None."""
    best, best_n = None, -1
    try:
        names = os.listdir(output_dir)
    except OSError:
        return None
    for name in names:
        m = re.fullmatch(r"checkpoint-(\d+)", name)
        p = os.path.join(output_dir, name)
        if m and os.path.isdir(p) and int(m.group(1)) > best_n:
            best, best_n = p, int(m.group(1))
    return best


class Emitter:
    """Writes protocol events to the original stdout, one JSON object a line."""

    def __init__(self, stream):
        self.stream = stream

    def __call__(self, event, **fields):
        fields = {"event": event, **fields}
        self.stream.write(json.dumps(fields, allow_nan=False, default=str) + "\n")
        self.stream.flush()


def protocol_stream():
    """Returns a stream on the real stdout and points fd 1 at stderr.

    Libraries print to stdout; only protocol events may go there.
    """
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def to_prompt_completion(msgs):
    return {"prompt": msgs[:-1], "completion": msgs[-1:]}


def train(cfg, data, eval_data, emit):
    """Runs QLoRA training. Imports torch and friends only here."""
    stop = {"requested": False, "training": False}

    def on_term(signum, frame):
        if not stop["training"]:
            raise SystemExit(143)  # nothing to save yet
        stop["requested"] = True

    signal.signal(signal.SIGTERM, on_term)

    import torch
    from datasets import Dataset
    from peft import LoraConfig, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    if not torch.cuda.is_available():
        raise SystemExit("qlora.py: error: no CUDA GPU (bitsandbytes 4-bit training needs one); --check runs without")

    rows = [to_prompt_completion(m) for _, m in read_examples(data)]
    train_ds = Dataset.from_list(rows)
    eval_ds = Dataset.from_list([to_prompt_completion(m) for _, m in read_examples(eval_data)]) if eval_data else None

    out = cfg["output_dir"]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "qlora-config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    resume = last_checkpoint(out)

    bnb = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )
    tok = AutoTokenizer.from_pretrained(cfg["model"])
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(
        cfg["model"], quantization_config=bnb, torch_dtype=torch.bfloat16, device_map={"": 0})
    model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg["gradient_checkpointing"])
    lora = LoraConfig(
        r=cfg["rank"],
        lora_alpha=cfg["alpha"],
        lora_dropout=cfg["dropout"],
        target_modules=cfg["target_modules"],
        bias="none",
        task_type="CAUSAL_LM",
    )
    args = SFTConfig(
        output_dir=out,
        per_device_train_batch_size=cfg["batch_size"],
        gradient_accumulation_steps=cfg["gradient_accumulation_steps"],
        num_train_epochs=cfg["epochs"],
        max_steps=cfg["max_steps"] if cfg["max_steps"] > 0 else -1,
        learning_rate=cfg["learning_rate"],
        lr_scheduler_type=cfg["lr_scheduler"],
        warmup_steps=cfg["warmup_steps"],
        weight_decay=cfg["weight_decay"],
        optim=cfg["optim"],
        bf16=True,
        seed=cfg["seed"],
        logging_steps=cfg["logging_steps"],
        save_strategy="steps",
        save_steps=cfg["save_steps"],
        save_total_limit=cfg["save_total_limit"] or None,
        eval_strategy="epoch" if eval_ds is not None else "no",
        gradient_checkpointing=cfg["gradient_checkpointing"],
        max_length=cfg["max_length"],
        completion_only_loss=True,
        report_to="none",
        disable_tqdm=True,
    )

    class Progress(TrainerCallback):
        def __init__(self):
            self.t0 = None
            self.step0 = 0
            self.last = (None, None)  # (time, num_tokens)

        def on_train_begin(self, a, state, control, **kw):
            self.t0 = time.monotonic()
            self.step0 = state.global_step
            stop["training"] = True
            emit("start", resume_from=resume, examples=len(rows), total_steps=state.max_steps)

        def on_step_end(self, a, state, control, **kw):
            if stop["requested"]:
                control.should_save = True
                control.should_training_stop = True

        def on_log(self, a, state, control, logs=None, **kw):
            logs = logs or {}
            if "loss" not in logs:
                return
            now = time.monotonic()
            done = state.global_step - self.step0
            elapsed = now - self.t0
            eta = elapsed / done * (state.max_steps - state.global_step) if done > 0 else None
            tps = None
            ntok = logs.get("num_tokens")
            if ntok is not None:
                t, n = self.last
                if t is not None and now > t:
                    tps = (ntok - n) / (now - t)
                self.last = (now, ntok)
            emit("progress", step=state.global_step, total_steps=state.max_steps, epoch=logs.get("epoch"),
                 loss=logs["loss"], lr=logs.get("learning_rate"), tokens_per_second=tps, eta_seconds=eta)

    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tok,
        peft_config=lora,
        callbacks=[Progress()],
    )
    result = trainer.train(resume_from_checkpoint=resume)
    if stop["requested"]:
        emit("stopped", checkpoint=last_checkpoint(out))
        raise SystemExit(143)
    adapter = os.path.join(out, ADAPTER_SUBDIR)
    trainer.model.save_pretrained(adapter)
    tok.save_pretrained(adapter)
    emit("result", adapter_dir=os.path.abspath(adapter), steps=result.global_step, train_loss=result.training_loss)


def main(argv=None):
    p = argparse.ArgumentParser(prog="qlora.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="training JSONL (filter.Export's train.jsonl)")
    p.add_argument("--eval", help="validation JSONL (filter.Export's validation.jsonl)")
    p.add_argument("--config", help="JSON configuration; missing keys take the defaults")
    p.add_argument("--check", action="store_true", help="validate config and data (standard library only) and exit")
    a = p.parse_args(argv)
    try:
        cfg = load_config(a.config)
        if a.check:
            print(json.dumps(check(cfg, a.data, a.eval), ensure_ascii=False), flush=True)
            return 0
        for k in ("model", "output_dir"):
            if not cfg[k]:
                raise CheckError(a.config or "config", "%s is required to train" % k)
        check(cfg, a.data, a.eval)  # fail fast, before minutes of model loading
    except CheckError as e:
        print("qlora.py: error: %s" % e, file=sys.stderr, flush=True)
        return 1
    train(cfg, a.data, a.eval, Emitter(protocol_stream()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
