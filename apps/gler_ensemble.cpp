// gler_ensemble: combine saved model outputs (the seed's ModelOutputs .npz files or gler_infer
// JSON files) by weighted sum, mean, majority vote or SVM stacking, and report accuracy the way
// the seed's notebooks printed it. Contract: docs/CLI.md; recipes: docs/ENSEMBLES.md.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cli/cli.h"
#include "core/error.h"
#include "train/ensemble/combine.h"
#include "train/ensemble/cross_validation.h"
#include "train/ensemble/metrics.h"
#include "train/ensemble/model_outputs.h"
#include "train/ensemble/svm_stacker.h"

namespace {

using namespace gler;
using namespace gler::ensemble;

const char* kUsage = R"(gler_ensemble: combine saved model outputs

  gler_ensemble --outputs FILE.npz --mode weighted --weights w1,...,wK [--softmax] [--models 1,2,...] --split S
  gler_ensemble --outputs FILE.npz --mode mean [--softmax] --split S
  gler_ensemble --outputs FILE.npz --mode vote --split S
  gler_ensemble --outputs FILE.npz --mode svm --train-split train --eval-split valid,test
                [--kernel linear|rbf] [--C c] [--gamma scale|auto|g] [--features softmax|logits|log-softmax]
                [--standardize] [--grid [--C-grid ...] [--gamma-grid ...] [--folds 5] [--cv-seed 0]]
                [--save-svm FILE.json | --load-svm FILE.json] [--train-outputs FILE.npz]

Inputs (one of):
  --outputs FILE.npz        the seed's ModelOutputs layout: output_<split>_model<k>, label_<split>, filename_<split>
  --inputs A.json,B.json    gler_infer --format json outputs, one file per model (models numbered 1..K)
  --labels LABELS.csv       with --inputs: image,label (0/1/2 or Negative/Neutral/Positive); omit when unlabelled
Selection:
  --split S[,S...]          split(s) to evaluate (npz only): train, valid, test (default test)
  --eval-split S[,S...]     the same, for --mode svm
  --models 1,2,...          models to use, 1-based (default: all)
Modes:
  weighted   argmax of sum_k w_k * scores_k; raw logits (summed in float32, as the seed) or --softmax
  mean       argmax of the mean of the raw logits, or of the softmax with --softmax
  vote       majority vote of the models' argmax classes, ties to the lowest class
  svm        libsvm C-SVC on the concatenated --features (default softmax) of the models, fit on
             --train-split (default train) of --train-outputs (default --outputs), or on
             --train-inputs A.json,... --train-labels CSV; one-vs-one vote, ties to the lowest class
SVM options:
  --kernel linear|rbf (linear)  --C c (1)  --gamma scale|auto|g (scale; rbf only)  --standardize
  --grid                    choose C (and gamma) by stratified k-fold CV on the training split, then refit
  --C-grid c1,c2,...        (0.001,0.003,0.01,0.03,0.1,0.3,1,3,10)
  --gamma-grid g1,...       (scale,0.001,0.003,0.01,0.03,0.1)
  --folds K (5)  --cv-seed S (0: sklearn's StratifiedKFold(shuffle=True, random_state=S); -1: no shuffle)
  --save-svm FILE.json      save the fitted stacker;  --load-svm FILE.json: use a saved one (no training)
Output:
  accuracy with 12 significant digits ('%.12g', as the notebooks printed it; --percent: x100, as
  the SVM notebook printed it), per-class recall and the confusion matrix (rows true, columns
  predicted); for unlabelled splits the predicted class counts.
  --predictions FILE.csv    image,label,predicted,predicted_name per image (one split only)
  --submission-dir DIR      DIR/<stem>.txt per image, holding Negative/Neutral/Positive, no newline (the seed's submission)
  --device cpu|cuda[:N]     validated for the common contract; ensembles run on the CPU
)";

std::vector<double> parse_numbers(const std::string& list, const std::string& what) {
  std::vector<double> out;
  for (const auto& s : cli::split_list(list)) {
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    GLER_CHECK(!s.empty() && end && *end == '\0', what << " expects numbers, got '" << s << "'");
    out.push_back(d);
  }
  GLER_CHECK(!out.empty(), what << " is empty");
  return out;
}

std::vector<int> parse_models(const std::string& list) {
  std::vector<int> out;
  for (double d : parse_numbers(list, "--models")) {
    GLER_CHECK(d >= 1 && d == static_cast<int>(d), "--models expects 1-based model numbers, got " << d);
    out.push_back(static_cast<int>(d));
  }
  return out;
}

std::string join(const std::vector<int>& v) {
  std::ostringstream os;
  for (std::size_t i = 0; i < v.size(); ++i) os << (i ? "," : "") << v[i];
  return os.str();
}

// Where a set of model outputs comes from: an npz split, or gler_infer JSON files.
struct Source {
  std::string npz;
  std::vector<std::string> json;
  std::string labels;

  SplitOutputs load(const std::string& split) const {
    return npz.empty() ? load_json_set(json, labels) : load_npz_split(npz, split);
  }
};

Source source_from(const cli::Args& args, const std::string& outputs, const std::string& inputs, const std::string& labels) {
  Source s;
  GLER_CHECK(!(args.has(outputs) && args.has(inputs)), "give " << outputs << " or " << inputs << ", not both");
  if (args.has(outputs)) {
    GLER_CHECK(!args.has(labels), labels << " goes with " << inputs << "; npz files hold their labels");
    s.npz = args.require(outputs);
  } else {
    s.json = cli::split_list(args.require(inputs));
    s.labels = args.get(labels, "");
  }
  return s;
}

void report(const std::string& split, const SplitOutputs& data, const std::vector<int>& predicted, bool percent) {
  std::cout << "split: " << split << " (" << data.num_images() << " images, models " << join(data.model_ids) << ")\n";
  if (!data.labelled()) {
    const auto counts = class_counts(predicted);
    std::cout << "unlabelled; predicted:";
    for (int c = 0; c < kNumClasses; ++c) std::cout << " " << kClassNames[c] << " " << counts[c];
    std::cout << "\n";
    return;
  }
  const Evaluation e = evaluate(data.labels, predicted);
  std::cout << "accuracy: " << format_g12(percent ? e.accuracy() * 100 : e.accuracy()) << "\n";
  std::cout << "correct: " << e.correct << "/" << e.total << "\n";
  std::cout << "recall:";
  for (int c = 0; c < kNumClasses; ++c) std::cout << " " << kClassNames[c] << " " << format_g12(e.recall()[c]);
  std::cout << "\nconfusion (rows true, columns predicted: Negative Neutral Positive):\n";
  for (int t = 0; t < kNumClasses; ++t) {
    std::cout << "  " << std::left << std::setw(9) << kClassNames[t] << std::right;
    for (int p = 0; p < kNumClasses; ++p) std::cout << std::setw(6) << e.confusion[t][p];
    std::cout << "\n";
  }
}

void write_predictions(const std::string& path, const SplitOutputs& data, const std::vector<int>& predicted) {
  std::ofstream out(path);
  GLER_CHECK(out, "cannot write " << path);
  out << "image,label,predicted,predicted_name\n";
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    out << (data.images.empty() ? std::to_string(i) : data.images[i]) << ",";
    if (data.labelled()) out << data.labels[i];
    out << "," << predicted[i] << "," << kClassNames[predicted[i]] << "\n";
  }
  GLER_CHECK(out.good(), "cannot write " << path);
}

// The seed's submission: one file per image, named by its stem, holding the class name alone.
void write_submission(const std::string& dir, const SplitOutputs& data, const std::vector<int>& predicted) {
  GLER_CHECK(!data.images.empty(), "--submission-dir needs image names; " << data.source << " has none");
  std::filesystem::create_directories(dir);
  for (std::size_t i = 0; i < predicted.size(); ++i) {
    const auto path = std::filesystem::path(dir) / (std::filesystem::path(data.images[i]).stem().string() + ".txt");
    std::ofstream out(path, std::ios::binary);
    out << kClassNames[predicted[i]];
    GLER_CHECK(out.good(), "cannot write " << path.string());
  }
}

SvmStacker train_svm(const cli::Args& args, const Source& eval_source, const std::vector<int>& models) {
  const bool npz = !eval_source.npz.empty();
  GLER_CHECK(!args.has("--train-labels") || args.has("--train-inputs"), "--train-labels goes with --train-inputs");
  Source train_source = eval_source;
  if (args.has("--train-outputs") || args.has("--train-inputs")) {
    train_source = source_from(args, "--train-outputs", "--train-inputs", "--train-labels");
  } else {
    GLER_CHECK(npz, "--mode svm with --inputs needs its training set: --train-inputs A.json,... --train-labels CSV (or --load-svm)");
  }
  GLER_CHECK(!train_source.npz.empty() || !args.has("--train-split"), "--train-split applies to npz outputs");
  const std::string split = train_source.npz.empty() ? "the training inputs" : args.get("--train-split", "train");
  const SplitOutputs all = train_source.load(split);
  const SplitOutputs train = select_models(all, models.empty() ? all.model_ids : models);
  GLER_CHECK(train.labelled(), "the SVM training set " << train.source << " has no labels");

  StackerSpec spec;
  spec.features = parse_transform(args.get("--features", "softmax"));
  spec.model_ids = train.model_ids;
  spec.standardize = args.has("--standardize");
  spec.svm.kernel = parse_kernel(args.get("--kernel", "linear"));
  spec.svm.C = args.get_double("--C", 1.0);
  spec.svm.gamma = args.get("--gamma", "scale");
  GLER_CHECK(spec.svm.kernel == Kernel::rbf || !args.has("--gamma"), "--gamma applies to --kernel rbf");
  const Features x = stack_features(train, spec.features);

  if (args.has("--grid")) {
    GLER_CHECK(!args.has("--C") && !args.has("--gamma"), "--grid chooses C and gamma; drop --C/--gamma (use --C-grid/--gamma-grid)");
    const auto Cs = parse_numbers(args.get("--C-grid", "0.001,0.003,0.01,0.03,0.1,0.3,1,3,10"), "--C-grid");
    const auto gammas = cli::split_list(args.get("--gamma-grid", "scale,0.001,0.003,0.01,0.03,0.1"));
    const long long k = args.get_int("--folds", 5), seed = args.get_int("--cv-seed", 0);
    GLER_CHECK(seed >= -1 && seed <= 0xffffffffLL, "--cv-seed must be in 0..2^32-1, or -1 for no shuffling");
    const auto folds = stratified_folds(train.labels, static_cast<int>(k), seed < 0 ? std::nullopt : std::optional<std::uint32_t>(seed));
    const GridResult grid = grid_search(spec, x, train.labels, folds, Cs, gammas);
    std::cout << "grid: " << k << "-fold stratified CV on " << split << " (" << train.num_images() << " images, " << x.cols << " "
              << transform_name(spec.features) << " features" << (spec.standardize ? ", standardised" : "") << ", "
              << kernel_name(spec.svm.kernel) << " kernel)\n";
    std::cout << "  " << std::left << std::setw(12) << "C" << (spec.svm.kernel == Kernel::rbf ? "gamma       " : "")
              << "cv_accuracy     std\n";
    for (const auto& p : grid.points) {
      std::cout << "  " << std::setw(12) << format_g12(p.C);
      if (spec.svm.kernel == Kernel::rbf) std::cout << std::setw(12) << p.gamma;
      std::cout << std::setw(16) << format_g12(p.mean) << format_g12(p.std) << "\n";
    }
    std::cout << std::right;
    const GridPoint& best = grid.points[grid.best];
    spec.svm.C = best.C;
    if (spec.svm.kernel == Kernel::rbf) spec.svm.gamma = best.gamma;
    std::cout << "best: C=" << format_g12(best.C) << (spec.svm.kernel == Kernel::rbf ? " gamma=" + best.gamma : "")
              << " (cv accuracy " << format_g12(best.mean) << "); refit on all of " << split << "\n";
  }

  SvmStacker stacker = SvmStacker::fit(spec, x, train.labels);
  std::cout << "svm: " << kernel_name(spec.svm.kernel) << " C=" << format_g12(spec.svm.C);
  if (spec.svm.kernel == Kernel::rbf) std::cout << " gamma=" << format_g12(stacker.gamma()) << " (" << spec.svm.gamma << ")";
  std::cout << ", fit on " << split << " (" << train.num_images() << " images, " << x.cols << " " << transform_name(spec.features)
            << " features" << (spec.standardize ? ", standardised" : "") << "); support vectors per class:";
  for (int n : stacker.n_support()) std::cout << " " << n;
  std::cout << "\n";
  return stacker;
}

int run(int argc, char** argv) {
  const cli::Args args(argc, argv,
                       {"--outputs", "--inputs", "--labels", "--mode", "--split", "--eval-split", "--models", "--weights",
                        "--train-outputs", "--train-inputs", "--train-labels", "--train-split", "--kernel", "--C", "--gamma",
                        "--features", "--C-grid", "--gamma-grid", "--folds", "--cv-seed", "--save-svm", "--load-svm",
                        "--predictions", "--submission-dir", "--device"},
                       {"--softmax", "--standardize", "--grid", "--percent"});
  GLER_CHECK(args.positional().empty(), "unexpected argument '" << args.positional().front() << "' (see --help)");
  cli::device_option(args);  // validated for the common contract; ensembles run on the CPU

  const std::string mode = args.require("--mode");
  GLER_CHECK(mode == "weighted" || mode == "mean" || mode == "vote" || mode == "svm",
             "unknown --mode '" << mode << "' (expected weighted, mean, vote or svm)");
  const bool svm = mode == "svm";
  for (const char* o : {"--train-outputs", "--train-inputs", "--train-labels", "--train-split", "--kernel", "--C", "--gamma",
                        "--features", "--standardize", "--grid", "--C-grid", "--gamma-grid", "--folds", "--cv-seed", "--save-svm",
                        "--load-svm", "--eval-split"})
    GLER_CHECK(svm || !args.has(o), o << " applies to --mode svm");
  GLER_CHECK(mode == "weighted" || !args.has("--weights"), "--weights applies to --mode weighted");
  GLER_CHECK(mode == "weighted" || mode == "mean" || !args.has("--softmax"), "--softmax applies to --mode weighted and mean");
  GLER_CHECK(!(args.has("--split") && args.has("--eval-split")), "give --split or --eval-split, not both");
  GLER_CHECK(!(args.has("--C-grid") || args.has("--gamma-grid") || args.has("--folds") || args.has("--cv-seed")) || args.has("--grid"),
             "--C-grid, --gamma-grid, --folds and --cv-seed go with --grid");

  const Source source = source_from(args, "--outputs", "--inputs", "--labels");
  std::vector<std::string> splits = {"inputs"};
  if (!source.npz.empty()) {
    splits = cli::split_list(args.get("--eval-split", args.get("--split", "test")));
    GLER_CHECK(!splits.empty(), "no split given");
  } else {
    GLER_CHECK(!args.has("--split") && !args.has("--eval-split"), "--split applies to npz outputs; --inputs is one set of images");
  }
  GLER_CHECK(splits.size() == 1 || !(args.has("--predictions") || args.has("--submission-dir")),
             "--predictions and --submission-dir write one split; give a single --split");
  std::vector<int> models = args.has("--models") ? parse_models(args.require("--models")) : std::vector<int>{};

  std::optional<SvmStacker> stacker;
  if (svm && args.has("--load-svm")) {
    for (const char* o : {"--train-outputs", "--train-inputs", "--train-labels", "--train-split", "--kernel", "--C", "--gamma",
                          "--features", "--standardize", "--grid", "--save-svm"})
      GLER_CHECK(!args.has(o), o << " cannot be combined with --load-svm (the saved stacker fixes it)");
    stacker = SvmStacker::load(args.require("--load-svm"));
    GLER_CHECK(models.empty() || models == stacker->spec().model_ids,
               "--models " << join(models) << " differs from the saved stacker's models " << join(stacker->spec().model_ids));
    models = stacker->spec().model_ids;
    std::cout << "svm: loaded " << args.require("--load-svm") << " (" << kernel_name(stacker->spec().svm.kernel)
              << " C=" << format_g12(stacker->spec().svm.C) << ", models " << join(models) << ", "
              << transform_name(stacker->spec().features) << " features)\n";
  } else if (svm) {
    stacker = train_svm(args, source, models);
    if (args.has("--save-svm")) {
      stacker->save(args.require("--save-svm"));
      std::cout << "svm: saved " << args.require("--save-svm") << "\n";
    }
  }

  // Every split is read before anything is reported, so a bad split name fails up front.
  std::vector<SplitOutputs> eval_sets;
  for (const std::string& split : splits) {
    const SplitOutputs all = source.load(split);
    eval_sets.push_back(select_models(all, models.empty() ? all.model_ids : models));
  }
  for (std::size_t s = 0; s < splits.size(); ++s) {
    const std::string& split = splits[s];
    const SplitOutputs& data = eval_sets[s];
    std::vector<int> predicted;
    if (mode == "weighted") {
      predicted = argmax_rows(weighted_sum(data, parse_numbers(args.require("--weights"), "--weights"), args.has("--softmax")));
    } else if (mode == "mean") {
      predicted = argmax_rows(mean_scores(data, args.has("--softmax")));
    } else if (mode == "vote") {
      predicted = majority_vote(data);
    } else {
      predicted = stacker->predict(stack_features(data, stacker->spec().features));
    }
    report(split, data, predicted, args.has("--percent"));
    if (args.has("--predictions")) write_predictions(args.require("--predictions"), data, predicted);
    if (args.has("--submission-dir")) write_submission(args.require("--submission-dir"), data, predicted);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return gler::cli::run_main(argc, argv, kUsage, run); }
