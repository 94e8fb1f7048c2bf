/* conformance-classes.c — the operators the conformance table does not
 * hold Kestrel to, grouped by why (see conformance-classes.h).
 *
 * Everything else counts as a vision operator: the ONNX Model Zoo's vision
 * models and the exporters' detection, segmentation, pose, OCR and
 * super-resolution heads are built from them (and ONNX's own quantized
 * operators, which quantized Model Zoo models use, count too). */
#include <string.h>

#include "conformance-classes.h"

static const struct {
  const char *reason;
  const char *const ops[16];
} out_groups[] = {
  { "training: losses and optimisers (Kestrel runs inference only)",
    { "Adagrad", "Adam", "Momentum", "Gradient", "NegativeLogLikelihoodLoss",
      "SoftmaxCrossEntropyLoss" } },
  { "recurrent networks and sequence reordering (speech and text models)",
    { "GRU", "LSTM", "RNN", "ReverseSequence" } },
  { "signal processing (audio: transforms, windows, mel filters)",
    { "DFT", "STFT", "BlackmanWindow", "HammingWindow", "HannWindow", "MelWeightMatrix" } },
  { "text (strings, n-grams)",
    { "TfIdfVectorizer", "StringNormalizer", "RegexFullMatch", "StringConcat", "StringSplit",
      "LabelEncoder" } },
  { "random numbers (training and sampling)",
    { "Bernoulli", "RandomUniform", "RandomUniformLike", "RandomNormal", "RandomNormalLike",
      "Multinomial" } },
  { "sequences and optionals (values that are not tensors)",
    { "SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase", "SequenceInsert",
      "SequenceLength", "SequenceMap", "SplitToSequence", "ConcatFromSequence", "Optional",
      "OptionalGetElement", "OptionalHasElement" } },
  { "control flow (subgraphs; Kestrel plans one static graph)",
    { "If", "Loop", "Scan" } },
  { "an output size that depends on the data, in operators vision graphs do not use "
    "(Kestrel plans static shapes)",
    { "Unique", "Compress" } },
  { "linear algebra outside vision graphs (determinants)",
    { "Det" } },
};

const char *
conformance_op_out_reason (const char *op_type)
{
  for (gsize g = 0; g < G_N_ELEMENTS (out_groups); g++)
    for (gsize i = 0; i < G_N_ELEMENTS (out_groups[g].ops) && out_groups[g].ops[i] != NULL; i++)
      if (strcmp (out_groups[g].ops[i], op_type) == 0)
        return out_groups[g].reason;
  return NULL;
}

void
conformance_foreach_out_reason (GPtrArray *present,
                                void (*each) (const char *reason, GPtrArray *ops, gpointer data),
                                gpointer data)
{
  for (gsize g = 0; g < G_N_ELEMENTS (out_groups); g++)
    {
      g_autoptr(GPtrArray) ops = g_ptr_array_new ();

      for (gsize i = 0; i < G_N_ELEMENTS (out_groups[g].ops) && out_groups[g].ops[i] != NULL; i++)
        if (g_ptr_array_find_with_equal_func (present, out_groups[g].ops[i], g_str_equal, NULL))
          g_ptr_array_add (ops, (gpointer) out_groups[g].ops[i]);
      if (ops->len > 0)
        each (out_groups[g].reason, ops, data);
    }
}
