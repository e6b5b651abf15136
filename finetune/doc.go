// Package finetune trains a LoRA adapter on the SFT data that
// filter.Export writes, by running the pinned Python QLoRA script
// (qlora.py, embedded in the package; its packages pinned in
// requirements.txt) and reading its progress.
//
// The training itself is Python's: PEFT, TRL and bitsandbytes on a CUDA
// GPU, in a virtual environment that `make setup-train` creates. This
// package builds the script's JSON configuration (Config, defaults from
// the published recipe: rank 32, alpha 32, dropout 0, learning rate 1e-4,
// batch 4, linear schedule with 5 warm-up steps, LoRA on the seven
// attention and MLP projections), finds the Python interpreter, runs the
// script without a shell, streams its progress into a callback, and
// returns the adapter's directory. Check runs the script's --check, which
// validates the configuration and the data with Python's standard library
// alone, so it runs on any machine with a python3.
//
// # Protocol
//
// The script writes one JSON object per line on stdout, each with an
// "event": "check" (the --check report), "start" (the checkpoint resumed
// from, if any), "progress" (step, loss, learning rate, tokens/s, ETA),
// "stopped" (the checkpoint saved after SIGTERM) and "result" (the adapter
// directory). Lines that are not such objects are ignored. Its stderr is
// the log: the last lines are kept for the error when the script fails.
//
// # Cancellation
//
// When the context is done, the script gets SIGTERM, saves a checkpoint at
// the end of the current step and exits; if it has not exited after
// Config.Grace, it is killed. A later Train with the same OutputDir
// resumes from the last checkpoint.
//
// # Back to llama.cpp
//
// ConvertLoRA turns the PEFT adapter into a GGUF LoRA adapter with
// llama.cpp's convert_lora_to_gguf.py from the pinned source tree, for
// llama.Model.LoadLoRA and Session.SetLoRA, so that the fine-tuned student
// is evaluated by the same code as its teacher.
package finetune
