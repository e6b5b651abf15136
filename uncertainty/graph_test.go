package uncertainty

import (
	"errors"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// partitionW returns the answer-match similarity matrix of classes: 1
// within a class, 0 across.
func partitionW(classes []int) *mat.SymDense {
	m := len(classes)
	w := mat.NewSymDense(m, nil)
	for i := range m {
		for j := i; j < m; j++ {
			if i == j || classes[i] >= 0 && classes[i] == classes[j] {
				w.SetSym(i, j, 1)
			}
		}
	}
	return w
}

// TestGraphPartitionClosedForms checks the graph estimators on answer-match
// matrices against closed forms derived by hand. With c classes of sizes
// n_b, W is block diagonal with all-ones blocks J_b, so D = n_b on block b
// and D^(-1/2) W D^(-1/2) = ⊕ J_b/n_b, whose eigenvalues are 1 (once per
// block) and 0. The Laplacian's eigenvalues are thus 0 (c times) and 1
// (m-c times):
//
//	EigValLaplacian = Σ max(0, 1-λ) = c
//	Eccentricity: the kept eigenvectors span the block indicators 1_b/√n_b;
//	  with P = Σ_b 1_b1_bᵀ/n_b, U² = tr((I - 11ᵀ/m) P) = c - (Σ_b n_b)/m = c - 1
//	DegMat = 1 - Σ_ij W_ij/m² = 1 - Σ_b n_b²/m²
func TestGraphPartitionClosedForms(t *testing.T) {
	for _, classes := range [][]int{
		{0}, {0, 0}, {0, 1}, {0, 0, 1}, {0, 1, 2, 3}, {0, 0, 0, 0, 0, 0, 0, 0},
		{0, 1, 0, 2, 1, 0, 3, -1}, {-1, -1, -1}, {2, 2, 2, 5, 5, 7, 7, 7, 7},
	} {
		m := len(classes)
		sizes := map[int]int{}
		for i, c := range classes {
			if c < 0 {
				c = -1000 - i // each unparsed answer is its own class
			}
			sizes[c]++
		}
		c := float64(len(sizes))
		var sq float64
		for _, n := range sizes {
			sq += float64(n * n)
		}
		w := partitionW(classes)
		for _, f := range []struct {
			name string
			got  func() (float64, error)
			want float64
		}{
			{"EigValLaplacian", func() (float64, error) { return EigValLaplacian(w) }, c},
			{"Eccentricity", func() (float64, error) { return Eccentricity(w, 0.9) }, math.Sqrt(c - 1)},
			{"DegMat", func() (float64, error) { return DegMat(w) }, 1 - sq/float64(m*m)},
		} {
			if got, err := f.got(); err != nil || math.Abs(got-f.want) > 1e-12 {
				t.Errorf("%s(%v) = %v, %v; want %v", f.name, classes, got, err, f.want)
			}
		}
		if ecc, _ := Eccentricity(w, 0.9); c == 1 && ecc != 0 {
			t.Errorf("Eccentricity(%v) = %v, want exactly 0 so that alike groups tie", classes, ecc)
		}
		if got := NumSemSets(classes); got != len(sizes) {
			t.Errorf("NumSemSets(%v) = %d, want %d", classes, got, len(sizes))
		}
	}
}

func TestGraphErrors(t *testing.T) {
	bad := func(v float64) *mat.SymDense { return mat.NewSymDense(2, []float64{1, v, v, 1}) }
	for _, c := range []struct {
		name string
		w    mat.Symmetric
		want error
	}{
		{"empty", &mat.SymDense{}, ErrNoSamples},
		{"above 1", bad(1.5), ErrInvalid},
		{"negative", bad(-0.1), ErrInvalid},
		{"NaN", bad(math.NaN()), ErrNonFinite},
		{"zero degree", mat.NewSymDense(2, []float64{0, 0, 0, 1}), ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			for name, f := range map[string]func(mat.Symmetric) (float64, error){
				"DegMat": DegMat, "EigValLaplacian": EigValLaplacian, "LexicalSimilarity": LexicalSimilarity,
				"Eccentricity": func(w mat.Symmetric) (float64, error) { return Eccentricity(w, 0.9) },
			} {
				if _, err := f(c.w); !errors.Is(err, c.want) {
					t.Errorf("%s error = %v, want %v", name, err, c.want)
				}
			}
		})
	}
	if _, err := LexicalSimilarity(mat.NewSymDense(1, []float64{1})); !errors.Is(err, ErrNoSamples) {
		t.Errorf("LexicalSimilarity of one trace: %v, want ErrNoSamples", err)
	}
}

// TestClusters: components are transitive (0~1, 1~2 puts 0, 1, 2 together
// even though W_02 is below the threshold) and numbered by first member.
func TestClusters(t *testing.T) {
	w := mat.NewSymDense(5, []float64{
		1, 0.9, 0.1, 0, 0,
		0.9, 1, 0.8, 0, 0,
		0.1, 0.8, 1, 0, 0,
		0, 0, 0, 1, 0.2,
		0, 0, 0, 0.2, 1,
	})
	if got, want := Clusters(nil, w, 0.5), []int{0, 0, 0, 1, 2}; !slices.Equal(got, want) {
		t.Errorf("Clusters(0.5) = %v, want %v", got, want)
	}
	if got, want := Clusters(make([]int, 0, 8), w, 0.15), []int{0, 0, 0, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("Clusters(0.15) = %v, want %v", got, want)
	}
	// Members listed before their smallest-index partner still get its label.
	w2 := partitionW([]int{3, 1, 3, 1, 2})
	if got, want := Clusters(nil, w2, 0.5), []int{0, 1, 0, 1, 2}; !slices.Equal(got, want) {
		t.Errorf("Clusters(partition) = %v, want %v", got, want)
	}
}
