/* nn.prelu: out[o, c, i] = in > 0 ? in : w[c] * in, the buffer seen as outer x channels x inner,
 * w one slope per channel (slopes == channels) or one shared slope (slopes == 1). NaN stays NaN
 * (NaN > 0 is false, w * NaN is NaN), as in PyTorch. One work item per (o, c) plane. */
#include "patdnn_ops.h"
#include "pdnn_internal.h"

typedef struct {
  const float *in, *w;
  float *out;
  int64_t channels, inner, slopes;
} prelu_job;

static void prelu_planes(void *arg, int64_t begin, int64_t end) {
  const prelu_job *j = (const prelu_job *)arg;
  for (int64_t plane = begin; plane < end; plane++) {
    const float w = j->w[j->slopes == 1 ? 0 : plane % j->channels];
    const float *x = j->in + plane * j->inner;
    float *y = j->out + plane * j->inner;
    for (int64_t i = 0; i < j->inner; i++) y[i] = x[i] > 0.0f ? x[i] : w * x[i];
  }
}

void pdnn_prelu(pdnn_ctx *ctx, const float *in, float *out, const float *w, int64_t outer, int64_t channels,
                int64_t inner, int64_t slopes) {
  prelu_job job = {in, w, out, channels, inner, slopes};
  pdnn_parallel_for(ctx, outer * channels, prelu_planes, &job);
}
