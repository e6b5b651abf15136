package uncertainty

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode"
)

// Similarity compares two traces. Implementations return a value in
// [0, 1], are symmetric (s(a, b) = s(b, a)) and treat a trace as similar to
// itself with 1; the estimators check the range and never call it with a
// trace and itself.
type Similarity interface {
	Similarity(a, b *Trace) (float64, error)
}

// SimilarityFunc adapts a function to a Similarity.
type SimilarityFunc func(a, b *Trace) (float64, error)

// Similarity returns f(a, b).
func (f SimilarityFunc) Similarity(a, b *Trace) (float64, error) { return f(a, b) }

// AnswerMatch is 1 when both traces have a parsed answer and the answers
// are equal after Normalize, 0 otherwise: the exact-match similarity of
// self-consistency, and what makes CoCoA "perplexity + self-consistency".
// An unparsed answer matches nothing.
type AnswerMatch struct {
	// Normalize maps an answer to its canonical form before comparison
	// (for example NormalizeAnswer); nil compares answers as they are,
	// which suits answers that are already classes.
	Normalize func(string) string
}

// Similarity returns 1 or 0.
func (m AnswerMatch) Similarity(a, b *Trace) (float64, error) {
	if !a.OK || !b.OK {
		return 0, nil
	}
	x, y := a.Answer, b.Answer
	if m.Normalize != nil {
		x, y = m.Normalize(x), m.Normalize(y)
	}
	if x == y {
		return 1, nil
	}
	return 0, nil
}

// NormalizeAnswer lower-cases an answer, trims white space and punctuation
// from both ends and collapses inner runs of white space to one space, so
// that "Up." and " up" match.
func NormalizeAnswer(s string) string {
	s = strings.TrimFunc(strings.ToLower(s), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r)
	})
	return strings.Join(strings.Fields(s), " ")
}

// TokenJaccard is the Jaccard similarity of the token sets of two whole
// traces (see Jaccard and Trace's token precedence).
type TokenJaccard struct{}

// Similarity returns Jaccard over the traces' tokens.
func (TokenJaccard) Similarity(a, b *Trace) (float64, error) {
	return lexical(a, b, Jaccard[int32], Jaccard[string])
}

// TokenRougeL is the ROUGE-L F-measure of two whole traces' token sequences
// (see RougeL and Trace's token precedence).
type TokenRougeL struct{}

// Similarity returns RougeL over the traces' tokens.
func (TokenRougeL) Similarity(a, b *Trace) (float64, error) {
	return lexical(a, b, RougeL[int32], RougeL[string])
}

// lexical applies a token similarity to the first token form both traces
// have: IDs, then Tokens, then Words(Text).
func lexical(a, b *Trace, ids func(x, y []int32) float64, texts func(x, y []string) float64) (float64, error) {
	switch {
	case a.IDs != nil && b.IDs != nil:
		return ids(a.IDs, b.IDs), nil
	case a.Tokens != nil && b.Tokens != nil:
		return texts(a.Tokens, b.Tokens), nil
	case a.Text != "" || b.Text != "":
		return texts(Words(a.Text), Words(b.Text)), nil
	}
	return 0, fmt.Errorf("%w: traces without token ids, token texts or text", ErrMissing)
}

// EmbeddingCosine is the cosine similarity of two traces' embeddings
// (Trace.Embedding, filled for example by EmbedGroup or EmbedGroupTexts), clamped to [0, 1]
// as max(0, cos): opposite or orthogonal meanings are equally dissimilar,
// and rounding above 1 is cut to 1. It returns ErrMissing when a trace has
// no embedding.
type EmbeddingCosine struct{}

// Similarity returns the clamped cosine.
func (EmbeddingCosine) Similarity(a, b *Trace) (float64, error) {
	if a.Embedding == nil || b.Embedding == nil {
		return 0, fmt.Errorf("%w: trace without embedding", ErrMissing)
	}
	c, err := Cosine(a.Embedding, b.Embedding)
	if err != nil {
		return 0, err
	}
	return min(max(c, 0), 1), nil
}

// Cosine returns the cosine of the angle between a and b, in [-1, 1] up to
// rounding, accumulated in float64. It returns ErrInvalid for vectors of
// different lengths or a zero vector (whose cosine is 0/0) and a
// *NonFiniteError for a NaN or infinite component.
func Cosine(a, b []float32) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("%w: embeddings of lengths %d and %d", ErrInvalid, len(a), len(b))
	}
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		if !finite(x) || !finite(y) {
			return 0, &NonFiniteError{What: "embedding component", Index: i, Value: x + y}
		}
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0, fmt.Errorf("%w: cosine of a zero embedding", ErrInvalid)
	}
	return ab / math.Sqrt(aa*bb), nil
}

// Embedder embeds token sequences, one vector per sequence, in order: the
// embedding "from the model itself" that CoCoA's embedding similarity
// uses. The llama binding's *llama.Session has this method.
type Embedder interface {
	Embed(ctx context.Context, tokens [][]int32) ([][]float32, error)
}

// TextEmbedder embeds texts, one vector per text, in order, as embedding
// APIs do.
type TextEmbedder interface {
	EmbedTexts(ctx context.Context, texts []string) ([][]float32, error)
}

// EmbedGroup embeds the token IDs of r0 and of every sample of g in one
// Embed call and stores the vectors in their Embedding fields. It returns
// ErrMissing if a trace has no IDs.
func EmbedGroup(ctx context.Context, e Embedder, g *Group) error {
	ts := traces(g)
	in := make([][]int32, len(ts))
	for i, t := range ts {
		if len(t.IDs) == 0 {
			return fmt.Errorf("%w: trace %d has no token ids to embed", ErrMissing, i)
		}
		in[i] = t.IDs
	}
	vecs, err := e.Embed(ctx, in)
	return setEmbeddings(ts, vecs, err)
}

// EmbedGroupTexts embeds the Text of r0 and of every sample of g in one
// EmbedTexts call and stores the vectors in their Embedding fields.
func EmbedGroupTexts(ctx context.Context, e TextEmbedder, g *Group) error {
	ts := traces(g)
	in := make([]string, len(ts))
	for i, t := range ts {
		in[i] = t.Text
	}
	vecs, err := e.EmbedTexts(ctx, in)
	return setEmbeddings(ts, vecs, err)
}

// traces returns r0 and the samples of g.
func traces(g *Group) []*Trace {
	ts := make([]*Trace, 0, 1+len(g.Samples))
	ts = append(ts, &g.Greedy)
	for i := range g.Samples {
		ts = append(ts, &g.Samples[i])
	}
	return ts
}

func setEmbeddings(ts []*Trace, vecs [][]float32, err error) error {
	if err != nil {
		return fmt.Errorf("uncertainty: embed: %w", err)
	}
	if len(vecs) != len(ts) {
		return fmt.Errorf("%w: %d embeddings for %d traces", ErrInvalid, len(vecs), len(ts))
	}
	for i, t := range ts {
		t.Embedding = vecs[i]
	}
	return nil
}

// similarity calls s and checks that its value is finite and in [0, 1].
func similarity(s Similarity, a, b *Trace) (float64, error) {
	v, err := s.Similarity(a, b)
	if err != nil {
		return 0, err
	}
	if !finite(v) {
		return 0, &NonFiniteError{What: "similarity", Value: v}
	}
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("%w: similarity %v outside [0, 1]", ErrInvalid, v)
	}
	return v, nil
}
