package uncertainty

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// SimilarityMatrix returns the m×m matrix W with W_ij = s(t_i, t_j) for
// i ≠ j and W_ii = 1. It calls s once per pair i < j (s is symmetric) and
// returns ErrNoSamples for no traces and the first error of s, or of its
// value outside [0, 1].
func SimilarityMatrix(ts []*Trace, s Similarity) (*mat.SymDense, error) {
	m := len(ts)
	if m == 0 {
		return nil, fmt.Errorf("%w: no traces to compare", ErrNoSamples)
	}
	w := mat.NewSymDense(m, nil)
	for i := range m {
		w.SetSym(i, i, 1)
		for j := i + 1; j < m; j++ {
			v, err := similarity(s, ts[i], ts[j])
			if err != nil {
				return nil, fmt.Errorf("%w (similarity of traces %d and %d)", err, i, j)
			}
			w.SetSym(i, j, v)
		}
	}
	return w, nil
}

// checkW checks that w is a non-empty similarity matrix: finite entries in
// [0, 1] and a positive degree Σ_j W_ij for every row.
func checkW(w mat.Symmetric) (m int, err error) {
	m = w.SymmetricDim()
	if m == 0 {
		return 0, fmt.Errorf("%w: empty similarity matrix", ErrNoSamples)
	}
	for i := range m {
		var deg float64
		for j := range m {
			v := w.At(i, j)
			if !finite(v) {
				return 0, &NonFiniteError{What: "similarity matrix entry", Index: i*m + j, Value: v}
			}
			if v < 0 || v > 1 {
				return 0, fmt.Errorf("%w: similarity %v at (%d, %d) outside [0, 1]", ErrInvalid, v, i, j)
			}
			deg += v
		}
		if deg == 0 {
			return 0, fmt.Errorf("%w: trace %d is similar to nothing, itself included (zero degree)", ErrInvalid, i)
		}
	}
	return m, nil
}

// DegMat returns the degree-matrix uncertainty of Lin et al. 2023
// (arXiv 2305.19187) from an m×m similarity matrix W with degrees
// D_ii = Σ_j W_ij:
//
//	U_Deg = trace(m·I - D) / m² = 1 - Σ_ij W_ij / m²
//
// as LM-Polygraph's DegMat computes it. It is 0 when all traces are alike
// (W all ones) and 1 - 1/m when all differ (W = I). Errors: ErrNoSamples for
// m = 0, ErrInvalid or a *NonFiniteError for entries outside [0, 1].
func DegMat(w mat.Symmetric) (float64, error) {
	m, err := checkW(w)
	if err != nil {
		return 0, err
	}
	var sum float64
	for i := range m {
		for j := range m {
			sum += w.At(i, j)
		}
	}
	return max(0, 1-sum/float64(m*m)), nil
}

// laplacian returns the eigenvalues (ascending) and, if vectors, the
// eigenvectors of the normalised graph Laplacian of w:
//
//	L = I - D^(-1/2) W D^(-1/2)
func laplacian(w mat.Symmetric, vectors bool) (m int, vals []float64, vecs *mat.Dense, err error) {
	m, err = checkW(w)
	if err != nil {
		return 0, nil, nil, err
	}
	isd := make([]float64, m) // D^(-1/2)
	for i := range m {
		var deg float64
		for j := range m {
			deg += w.At(i, j)
		}
		isd[i] = 1 / math.Sqrt(deg)
	}
	l := mat.NewSymDense(m, nil)
	for i := range m {
		for j := i; j < m; j++ {
			v := -isd[i] * w.At(i, j) * isd[j]
			if i == j {
				v++
			}
			l.SetSym(i, j, v)
		}
	}
	var es mat.EigenSym
	if !es.Factorize(l, vectors) {
		return 0, nil, nil, fmt.Errorf("%w: eigendecomposition of the Laplacian did not converge", ErrUndefined)
	}
	vals = es.Values(nil)
	if vectors {
		vecs = new(mat.Dense)
		es.VectorsTo(vecs)
	}
	return m, vals, vecs, nil
}

// EigValLaplacian returns the sum-of-eigenvalues uncertainty of Lin et al.
// 2023 from the eigenvalues λ_k of the normalised Laplacian
// L = I - D^(-1/2) W D^(-1/2) of the similarity matrix W:
//
//	U_EigV = Σ_k max(0, 1 - λ_k)
//
// as LM-Polygraph's EigValLaplacian computes it: a continuous count of
// semantic sets, 1 when all traces are alike and m when all differ. Errors
// are those of DegMat, and ErrInvalid for a row of zeros.
func EigValLaplacian(w mat.Symmetric) (float64, error) {
	_, vals, _, err := laplacian(w, false)
	if err != nil {
		return 0, err
	}
	var u float64
	for _, l := range vals {
		u += max(0, 1-l)
	}
	return u, nil
}

// Eccentricity returns the eccentricity uncertainty of Lin et al. 2023 as
// LM-Polygraph's Eccentricity computes it: take the eigenvectors v_k of the
// normalised Laplacian of W whose eigenvalue is below threshold (0.9 in
// LM-Polygraph), centre each over the m traces and take the Euclidean norm
// of all of them together,
//
//	U_Ecc = sqrt(Σ_k ‖v_k - mean(v_k)·1‖²)
//
// which is the paper's norm of the traces' spectral embeddings around their
// centroid. It does not depend on which orthonormal eigenvectors the solver
// picks within an eigenspace. It is 0 when all traces are alike and
// sqrt(m-1) when all differ; a sum of squares below m·1e-20, the
// eigen-solver's rounding, is reported as 0, so that groups of alike traces
// tie instead of being ordered by rounding noise. Errors are those of
// EigValLaplacian.
func Eccentricity(w mat.Symmetric, threshold float64) (float64, error) {
	m, vals, vecs, err := laplacian(w, true)
	if err != nil {
		return 0, err
	}
	var u float64
	for k, l := range vals {
		if l >= threshold {
			continue
		}
		var mean float64
		for i := range m {
			mean += vecs.At(i, k)
		}
		mean /= float64(m)
		for i := range m {
			d := vecs.At(i, k) - mean
			u += d * d
		}
	}
	if u < float64(m)*1e-20 {
		return 0, nil
	}
	return math.Sqrt(u), nil
}

// LexicalSimilarity returns the mean similarity over all pairs i < j of an
// m×m similarity matrix:
//
//	S = (2 / (m(m-1))) Σ_{i<j} W_ij
//
// LM-Polygraph's LexicalSimilarity estimator, with ROUGE-L similarities,
// reports -S as the uncertainty. It returns ErrNoSamples for m < 2.
func LexicalSimilarity(w mat.Symmetric) (float64, error) {
	m := w.SymmetricDim()
	if m < 2 {
		return 0, fmt.Errorf("%w: lexical similarity needs 2 traces, have %d", ErrNoSamples, m)
	}
	if _, err := checkW(w); err != nil {
		return 0, err
	}
	var sum float64
	for i := range m {
		for j := i + 1; j < m; j++ {
			sum += w.At(i, j)
		}
	}
	return sum / float64(m*(m-1)/2), nil
}

// Clusters puts traces i and j in the same cluster when W_ij ≥ threshold,
// transitively (the connected components of that graph), and returns each
// trace's cluster, numbered 0, 1, ... in order of first member. It grows
// dst when it is too short. The clusters serve SemanticEntropy and
// NumSemSets with any similarity: with AnswerMatch they are the answer
// classes.
func Clusters(dst []int, w mat.Symmetric, threshold float64) []int {
	m := w.SymmetricDim()
	if cap(dst) < m {
		dst = make([]int, m)
	}
	dst = dst[:m]
	for i := range dst {
		dst[i] = i
	}
	root := func(i int) int {
		for dst[i] != i {
			dst[i] = dst[dst[i]]
			i = dst[i]
		}
		return i
	}
	for i := range m {
		for j := i + 1; j < m; j++ {
			if w.At(i, j) >= threshold {
				a, b := root(i), root(j)
				dst[max(a, b)] = min(a, b) // the root is the smallest member
			}
		}
	}
	for i := range m {
		dst[i] = root(i) // full path compression: dst[i] is i's root, its smallest member
	}
	// Renumber in order of first member. A root i (dst[i] == i) comes
	// before its members and takes the next label; a member j then reads
	// its root's label from dst[root], which j > root has already set.
	next := 0
	for i := range m {
		if dst[i] == i {
			dst[i] = next
			next++
		} else {
			dst[i] = dst[dst[i]]
		}
	}
	return dst
}
