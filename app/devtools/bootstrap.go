package devtools

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// The confidence intervals of `m3ret eval`: a percentile bootstrap over
// the queries. Every figure of one report is resampled with the same seed,
// so the figures of one test share their resamples of the queries.
const (
	bootResamples = 1000
	bootSeed      = 1
	bootLevel     = 0.95
)

// interval is a confidence interval [lo, hi]; JSON writes it as a
// two-number array.
type interval [2]float64

// bootstrapCI is the percentile bootstrap interval at level (0.95: the
// 2.5th and 97.5th percentiles) of the mean of scores, one per query, over
// resamples draws of len(scores) queries with replacement from the seeded
// stream. No scores give [0, 0].
func bootstrapCI(scores []float64, resamples int, seed uint64, level float64) interval {
	n := len(scores)
	if n == 0 || resamples < 1 {
		return interval{}
	}
	r := rand.New(rand.NewPCG(seed, 0x6d33726574)) // fixed stream: the same interval on every run
	means := make([]float64, resamples)
	for b := range means {
		sum := 0.0
		for range n {
			sum += scores[r.IntN(n)]
		}
		means[b] = sum / float64(n)
	}
	sort.Float64s(means)
	tail := (1 - level) / 2
	return interval{quantile(means, tail), quantile(means, 1-tail)}
}

// quantile is the p-quantile of sorted x, linearly interpolated.
func quantile(x []float64, p float64) float64 {
	pos := p * float64(len(x)-1)
	i := int(math.Floor(pos))
	if i >= len(x)-1 {
		return x[len(x)-1]
	}
	return x[i] + (pos-float64(i))*(x[i+1]-x[i])
}

// ci is the report's interval of per-query scores.
func ci(scores []float64) interval {
	return bootstrapCI(scores, bootResamples, bootSeed, bootLevel)
}

// withCI prints a figure with its interval: "0.482 [0.41, 0.55]".
func withCI(v float64, c interval) string {
	return fmt.Sprintf("%.3f [%.2f, %.2f]", v, c[0], c[1])
}
