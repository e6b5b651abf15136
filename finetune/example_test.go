package finetune_test

import (
	"context"
	"fmt"
	"log"

	"github.com/labelfree/labelfree/finetune"
)

// Check validates exported SFT data with Python's standard library (no
// GPU, no training packages); Train then trains on a CUDA machine, with
// the defaults of the published recipe, and ConvertLoRA makes the adapter
// a GGUF that llama.Model.LoadLoRA loads.
func Example() {
	ctx := context.Background()
	reports, warnings, err := finetune.Check(ctx, "out/sft/train.jsonl", "out/sft/validation.jsonl", nil)
	if err != nil {
		log.Fatal(err) // a *finetune.ScriptError naming the file and line
	}
	fmt.Println(reports["out/sft/train.jsonl"].Classes, warnings)

	res, err := finetune.Train(ctx, "out/sft/train.jsonl", "out/sft/validation.jsonl",
		&finetune.Config{Model: "Qwen/Qwen3-1.7B", OutputDir: "out/qlora"},
		func(p finetune.Progress) {
			fmt.Printf("step %d/%d loss %.3f eta %v\n", p.Step, p.TotalSteps, p.Loss, p.ETA)
		})
	if err != nil {
		log.Fatal(err)
	}
	if err := finetune.ConvertLoRA(ctx, res.AdapterDir, "out/qlora/lora.gguf", nil); err != nil {
		log.Fatal(err)
	}
}
