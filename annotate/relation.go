package annotate

import (
	"fmt"

	"github.com/labelfree/labelfree/uncertainty"
)

// UnsoundAUC returns how well an uncertainty detects reasoning rated
// unsound: uncertainty.ROCAUC of u against positive[i] = soundness[i] <
// sound, the probability that a random unsound item is more uncertain than
// a random sound one, ties counting one half. 0.5 is chance, 1 perfect.
// With soundness on the 1–5 scale, sound = 3 counts 3, 4 and 5 as sound.
// Errors are those of uncertainty.ROCAUC (ErrUndefined when every item is
// on one side of sound, ErrEmpty, ErrInvalid, a NaN uncertainty), and
// ErrInvalid for a soundness outside 1–5.
func UnsoundAUC(u []float64, soundness []int, sound int) (float64, error) {
	unsound := make([]bool, len(soundness))
	for i, s := range soundness {
		if s < MinSoundness || s > MaxSoundness {
			return 0, fmt.Errorf("%w: soundness %d is %d", ErrInvalid, i, s)
		}
		unsound[i] = s < sound
	}
	return uncertainty.ROCAUC(u, unsound)
}
