package uncertainty

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestAnswerMatch(t *testing.T) {
	up := &Trace{Answer: "Up.", OK: true}
	up2 := &Trace{Answer: " up", OK: true}
	down := &Trace{Answer: "down", OK: true}
	none := &Trace{Answer: "Up.", OK: false}
	for _, c := range []struct {
		name string
		s    AnswerMatch
		a, b *Trace
		want float64
	}{
		{"raw differ", AnswerMatch{}, up, up2, 0},
		{"normalised match", AnswerMatch{Normalize: NormalizeAnswer}, up, up2, 1},
		{"different", AnswerMatch{Normalize: NormalizeAnswer}, up, down, 0},
		{"unparsed matches nothing", AnswerMatch{}, up, none, 0},
		{"two unparsed", AnswerMatch{}, none, none, 0},
	} {
		if got, err := c.s.Similarity(c.a, c.b); err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestNormalizeAnswer(t *testing.T) {
	for in, want := range map[string]string{
		"Up.":                  "up",
		"  NOT   expressed!  ": "not expressed",
		"(down)":               "down",
		"":                     "",
		"up-regulated":         "up-regulated",
	} {
		if got := NormalizeAnswer(in); got != want {
			t.Errorf("NormalizeAnswer(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLexicalPrecedence: ids win over texts, texts over words of Text.
// Expected values by hand: ids {1,2,3} vs {1,2,4} have Jaccard 2/4; token
// texts a b vs a c have 1/3; words "The gene" vs "the cell" 1/3.
func TestLexicalPrecedence(t *testing.T) {
	a := &Trace{IDs: []int32{1, 2, 3}, Tokens: []string{"a", "b"}, Text: "The gene"}
	b := &Trace{IDs: []int32{1, 2, 4}, Tokens: []string{"a", "c"}, Text: "the cell"}
	if got, _ := (TokenJaccard{}).Similarity(a, b); got != 0.5 {
		t.Errorf("ids: %v, want 0.5", got)
	}
	a.IDs = nil
	if got, _ := (TokenJaccard{}).Similarity(a, b); got != 1.0/3 {
		t.Errorf("token texts: %v, want 1/3", got)
	}
	a.Tokens = nil
	if got, _ := (TokenJaccard{}).Similarity(a, b); got != 1.0/3 {
		t.Errorf("words: %v, want 1/3", got)
	}
	// ROUGE-L of "the gene" and "the cell": LCS 1, F = 2·1/(2+2).
	if got, _ := (TokenRougeL{}).Similarity(a, b); got != 0.5 {
		t.Errorf("ROUGE-L words: %v, want 0.5", got)
	}
	if _, err := (TokenRougeL{}).Similarity(&Trace{}, &Trace{}); !errors.Is(err, ErrMissing) {
		t.Errorf("no tokens: %v, want ErrMissing", err)
	}
}

// TestEmbeddingCosine: cosines of vectors at known angles, and the clamp
// max(0, cos) of the similarity.
func TestEmbeddingCosine(t *testing.T) {
	x := []float32{1, 0}
	for _, c := range []struct {
		name      string
		y         []float32
		cos, want float64
	}{
		{"same direction", []float32{3, 0}, 1, 1},
		{"60 degrees", []float32{0.5, float32(math.Sqrt(3) / 2)}, 0.5, 0.5},
		{"orthogonal", []float32{0, 2}, 0, 0},
		{"opposite, clamped", []float32{-1, 0}, -1, 0},
		{"120 degrees, clamped", []float32{-0.5, float32(math.Sqrt(3) / 2)}, -0.5, 0},
	} {
		cos, err := Cosine(x, c.y)
		if err != nil || math.Abs(cos-c.cos) > 1e-7 { // float32 inputs
			t.Errorf("%s: Cosine = %v, %v; want %v", c.name, cos, err, c.cos)
		}
		s, err := (EmbeddingCosine{}).Similarity(&Trace{Embedding: x}, &Trace{Embedding: c.y})
		if err != nil || math.Abs(s-c.want) > 1e-7 {
			t.Errorf("%s: similarity = %v, %v; want %v", c.name, s, err, c.want)
		}
	}
	for _, c := range []struct {
		name string
		a, b []float32
		want error
	}{
		{"zero vector", []float32{0, 0}, x, ErrInvalid},
		{"lengths", []float32{1}, x, ErrInvalid},
		{"NaN", []float32{float32(math.NaN()), 1}, x, ErrNonFinite},
		{"missing", nil, x, ErrMissing},
	} {
		if _, err := (EmbeddingCosine{}).Similarity(&Trace{Embedding: c.a}, &Trace{Embedding: c.b}); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
}

// fakeEmbedder embeds a text as (length, count of 'u') and a token
// sequence as (length, sum of ids).
type fakeEmbedder struct{ calls int }

func (f *fakeEmbedder) EmbedTexts(_ context.Context, texts []string) ([][]float32, error) {
	f.calls++
	out := make([][]float32, len(texts))
	for i, s := range texts {
		out[i] = []float32{float32(len(s)), float32(strings.Count(s, "u"))}
	}
	return out, nil
}

func (f *fakeEmbedder) Embed(_ context.Context, tokens [][]int32) ([][]float32, error) {
	f.calls++
	out := make([][]float32, len(tokens))
	for i, t := range tokens {
		var sum float32
		for _, id := range t {
			sum += float32(id)
		}
		out[i] = []float32{float32(len(t)), sum}
	}
	return out, nil
}

// llamaLike has the signature of the llama binding's Session.Embed, which
// must keep satisfying Embedder.
type llamaLike struct{}

func (*llamaLike) Embed(ctx context.Context, texts [][]int32) ([][]float32, error) { return nil, nil }

var _ Embedder = (*llamaLike)(nil)

func TestEmbedGroup(t *testing.T) {
	g := &Group{Greedy: Trace{Text: "up", IDs: []int32{1, 2}}, Samples: []Trace{{Text: "uu", IDs: []int32{5}}, {Text: "down", IDs: []int32{1, 1, 1}}}}
	e := &fakeEmbedder{}
	if err := EmbedGroupTexts(t.Context(), e, g); err != nil {
		t.Fatal(err)
	}
	if g.Greedy.Embedding[0] != 2 || g.Samples[0].Embedding[1] != 2 || g.Samples[1].Embedding[0] != 4 {
		t.Errorf("text embeddings %v %v %v", g.Greedy.Embedding, g.Samples[0].Embedding, g.Samples[1].Embedding)
	}
	if err := EmbedGroup(t.Context(), e, g); err != nil {
		t.Fatal(err)
	}
	if g.Greedy.Embedding[1] != 3 || g.Samples[0].Embedding[1] != 5 || g.Samples[1].Embedding[0] != 3 {
		t.Errorf("token embeddings %v %v %v", g.Greedy.Embedding, g.Samples[0].Embedding, g.Samples[1].Embedding)
	}
	if e.calls != 2 {
		t.Errorf("embedder called %d times, want once per group and call", e.calls)
	}
	g.Samples[1].IDs = nil
	if err := EmbedGroup(t.Context(), e, g); !errors.Is(err, ErrMissing) {
		t.Errorf("trace without ids: %v, want ErrMissing", err)
	}
	short := textEmbedderFunc(func(context.Context, []string) ([][]float32, error) { return nil, nil })
	if err := EmbedGroupTexts(t.Context(), short, g); !errors.Is(err, ErrInvalid) {
		t.Errorf("too few embeddings: %v, want ErrInvalid", err)
	}
	boom := errors.New("boom")
	failing := textEmbedderFunc(func(context.Context, []string) ([][]float32, error) { return nil, boom })
	if err := EmbedGroupTexts(t.Context(), failing, g); !errors.Is(err, boom) {
		t.Errorf("embedder error: %v, want it wrapped", err)
	}
}

type textEmbedderFunc func(ctx context.Context, texts []string) ([][]float32, error)

func (f textEmbedderFunc) EmbedTexts(ctx context.Context, texts []string) ([][]float32, error) {
	return f(ctx, texts)
}

// TestSimilarityRangeChecked: a user similarity outside [0, 1] or NaN is an
// error wherever a similarity is used.
func TestSimilarityRangeChecked(t *testing.T) {
	g := &Group{Greedy: Trace{LogProbs: []float64{-1}, Entropies: []float64{1}},
		Samples: []Trace{{LogProbs: []float64{-1}}, {LogProbs: []float64{-2}}}}
	for v, want := range map[float64]error{1.5: ErrInvalid, -0.5: ErrInvalid, math.NaN(): ErrNonFinite} {
		s := SimilarityFunc(func(a, b *Trace) (float64, error) { return v, nil })
		for _, name := range []string{"cocoa-ppl", "degmat", "eigval-laplacian", "eccentricity"} {
			e, err := New(name, &Config{Similarity: s})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Estimate(g); !errors.Is(err, want) {
				t.Errorf("%s with similarity %v: %v, want %v", name, v, err, want)
			}
		}
	}
}
