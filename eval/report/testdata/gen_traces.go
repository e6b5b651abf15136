//go:build ignore

// gen_traces writes traces.jsonl, the report test's fixture: 60 PerturbQA-
// shaped groups (ids k562/P{p}/G{g}) of one greedy and 4 sampled traces
// from samplingtest.Fake, with gold labels chosen so that r0 is right
// more often when its samples agree with it. Run from this directory:
//
//	go run gen_traces.go
package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"log"
	"os"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
)

func main() {
	fake := &samplingtest.Fake{Words: 6, Unparsable: 0.03}
	task := fake.Task()
	params := sampling.Params{Samples: 4, MaxTokens: 64, Seed: 6}
	f, err := os.Create("traces.jsonl")
	if err != nil {
		log.Fatal(err)
	}
	w, err := sampling.NewWriter(f, &sampling.Header{Model: "samplingtest.Fake", Backend: "samplingtest", Task: "fake", Params: params.WithDefaults()})
	if err != nil {
		log.Fatal(err)
	}
	classes := task.Classes()
	for p := range 6 {
		for g := range 10 {
			id := fmt.Sprintf("k562/P%d/G%d", p, g)
			prompt := sampling.Chat("Answer up, down or none.", "Question "+id)
			traces, err := fake.Generate(context.Background(), prompt, &params)
			if err != nil {
				log.Fatal(err)
			}
			grp := &sampling.Group{Prompt: prompt}
			agree := 0
			var r0 sampling.Answer
			for i := range traces {
				a := task.Parse(traces[i].Text)
				if i == 0 {
					r0 = a
				} else if a.OK && a.Class == r0.Class {
					agree++
				}
				grp.Traces = append(grp.Traces, sampling.NewTraceRecord(&traces[i], a, sampling.LogProbsFull))
			}
			h := fnv.New32a()
			h.Write([]byte(id))
			x := h.Sum32()
			label := classes[x%3]
			if r0.OK && int(x>>8%5) < agree+1 {
				label = r0.Class // right with probability (agree+1)/5
			}
			grp.Item = sampling.Item{ID: id, Label: label, Fields: map[string]string{"cell": "k562", "pert": fmt.Sprint("P", p), "gene": fmt.Sprint("G", g)}}
			if err := w.Write(grp); err != nil {
				log.Fatal(err)
			}
		}
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
