#include "train/trainer/train_config.h"

#include <cmath>
#include <set>

#include "core/error.h"

namespace gler::train {
namespace {

// An object's members read one by one; whatever is left unread is an unknown key.
class Fields {
 public:
  Fields(const json::Value& value, std::string where) : where_(std::move(where)) {
    GLER_CHECK(value.is_object(), where_ << " must be a JSON object, got " << value.type_name());
    object_ = &value.as_object();
  }
  ~Fields() = default;

  const json::Value* get(const std::string& key) {
    seen_.insert(key);
    for (const auto& [k, v] : *object_)
      if (k == key) return &v;
    return nullptr;
  }
  std::string name(const std::string& key) const { return where_ + "." + key; }

  template <class F>
  void read(const std::string& key, F&& assign) {
    if (const json::Value* v = get(key)) {
      try {
        assign(*v);
      } catch (const Error& e) {
        GLER_FAIL(name(key) << ": " << e.what());
      }
    }
  }
  void finish() const {
    for (const auto& [k, v] : *object_)
      GLER_CHECK(seen_.contains(k), "unknown key " << where_ << "." << k);
  }

 private:
  std::string where_;
  const json::Object* object_ = nullptr;
  std::set<std::string> seen_;
};

double positive(const json::Value& v) {
  const double x = v.as_number();
  GLER_CHECK(std::isfinite(x) && x > 0, "must be a positive number, got " << x);
  return x;
}
double non_negative(const json::Value& v) {
  const double x = v.as_number();
  GLER_CHECK(std::isfinite(x) && x >= 0, "must be a non-negative number, got " << x);
  return x;
}
long long int_in(const json::Value& v, long long least, long long most) {
  const long long x = v.as_int();
  GLER_CHECK(x >= least && x <= most, "must be an integer from " << least << " to " << most << ", got " << x);
  return x;
}
std::vector<std::string> strings(const json::Value& v) {
  std::vector<std::string> out;
  for (const json::Value& s : v.as_array()) out.push_back(s.as_string());
  return out;
}
json::Value string_array(const std::vector<std::string>& v) {
  json::Array out;
  for (const std::string& s : v) out.emplace_back(s);
  return out;
}

LossKind parse_loss(const std::string& s) {
  if (s == "ce") return LossKind::ce;
  if (s == "face_ce") return LossKind::face_ce;
  if (s == "lsoftmax") return LossKind::lsoftmax;
  if (s == "asoftmax") return LossKind::asoftmax;
  GLER_FAIL("must be ce, face_ce, lsoftmax or asoftmax, got '" << s << "'");
}

}  // namespace

const char* loss_name(LossKind loss) {
  switch (loss) {
    case LossKind::ce: return "ce";
    case LossKind::face_ce: return "face_ce";
    case LossKind::lsoftmax: return "lsoftmax";
    case LossKind::asoftmax: return "asoftmax";
  }
  return "?";
}

TrainConfig parse_train_config(const json::Value& value, const std::string& fallback_name) {
  TrainConfig c;
  c.name = fallback_name;
  Fields f(value, "config");
  f.read("name", [&](const json::Value& v) { c.name = v.as_string(); });
  f.read("description", [&](const json::Value& v) { c.description = v.as_string(); });
  f.read("seed_compat", [&](const json::Value& v) { c.model.seed_compat = v.as_bool(); });
  const json::Value* model = f.get("model");
  GLER_CHECK(model, "config.model is missing (the arch to train)");
  {
    Fields m(*model, "config.model");
    const json::Value* arch = m.get("arch");
    GLER_CHECK(arch, "config.model.arch is missing");
    c.model.arch = arch->as_string();
    m.read("emotic", [&](const json::Value& v) { c.model.emotic = v.as_bool(); });
    m.read("local_head", [&](const json::Value& v) { c.model.local_head = v.as_string(); });
    m.read("max_faces", [&](const json::Value& v) { c.model.max_faces = static_cast<int>(int_in(v, 1, 1000)); });
    m.finish();
    GLER_CHECK(c.model.arch != "default", "config.model.arch: the default model is not trained by gler_train");
    c.model.check();
  }
  f.read("shapes", [&](const json::Value& v) {
    GLER_CHECK(v.is_object(), "must be an object");
    c.shapes = models::shapes_from_metadata({{"shapes", json::dump(v)}});
  });
  f.read("init", [&](const json::Value& v) {
    int k = 0;
    for (const json::Value& item : v.as_array()) {
      Fields s(item, "config.init[" + std::to_string(k++) + "]");
      InitSource src;
      const json::Value* file = s.get("file");
      GLER_CHECK(file, s.name("file") << " is missing");
      src.file = file->as_string();
      GLER_CHECK(!src.file.empty(), s.name("file") << " is empty");
      s.read("select", [&](const json::Value& x) { src.select = x.as_string(); });
      s.read("into", [&](const json::Value& x) { src.into = x.as_string(); });
      s.read("skip", [&](const json::Value& x) { src.skip = strings(x); });
      s.finish();
      c.init.push_back(std::move(src));
    }
  });
  f.read("train_only", [&](const json::Value& v) { c.train_only = strings(v); });
  f.read("optimizer", [&](const json::Value& v) {
    Fields o(v, "config.optimizer");
    o.read("type", [&](const json::Value& x) {
      c.optimizer.type = x.as_string();
      GLER_CHECK(c.optimizer.type == "sgd" || c.optimizer.type == "adam",
                 "must be sgd or adam, got '" << c.optimizer.type << "'");
    });
    o.read("lr", [&](const json::Value& x) { c.optimizer.lr = positive(x); });
    o.read("momentum", [&](const json::Value& x) { c.optimizer.momentum = non_negative(x); });
    o.read("weight_decay", [&](const json::Value& x) { c.optimizer.weight_decay = non_negative(x); });
    o.read("nesterov", [&](const json::Value& x) { c.optimizer.nesterov = x.as_bool(); });
    o.read("beta1", [&](const json::Value& x) { c.optimizer.beta1 = non_negative(x); });
    o.read("beta2", [&](const json::Value& x) { c.optimizer.beta2 = non_negative(x); });
    o.read("eps", [&](const json::Value& x) { c.optimizer.eps = positive(x); });
    o.finish();
    GLER_CHECK(!c.optimizer.nesterov || c.optimizer.momentum > 0, "config.optimizer.nesterov needs a momentum");
    GLER_CHECK(c.optimizer.beta1 < 1 && c.optimizer.beta2 < 1, "config.optimizer.beta1 and beta2 must be below 1");
  });
  f.read("schedule", [&](const json::Value& v) {
    Fields s(v, "config.schedule");
    s.read("step_size", [&](const json::Value& x) { c.schedule.step_size = static_cast<int>(int_in(x, 0, 100000)); });
    s.read("gamma", [&](const json::Value& x) { c.schedule.gamma = positive(x); });
    s.finish();
  });
  f.read("epochs", [&](const json::Value& v) { c.epochs = static_cast<int>(int_in(v, 1, 100000)); });
  f.read("epochs_full", [&](const json::Value& v) { c.epochs_full = static_cast<int>(int_in(v, 1, 100000)); });
  f.read("batch", [&](const json::Value& v) { c.batch = int_in(v, 1, 100000); });
  f.read("loss", [&](const json::Value& v) { c.loss = parse_loss(v.as_string()); });
  f.read("augment", [&](const json::Value& v) { c.augment = v.as_bool(); });
  f.read("dataset", [&](const json::Value& v) {
    c.dataset = v.as_string();
    GLER_CHECK(c.dataset == "emotiw" || c.dataset == "emotic", "must be emotiw or emotic, got '" << c.dataset << "'");
  });
  f.finish();
  GLER_CHECK(c.dataset == "emotiw" || c.model.arch == "global",
             "config.dataset emotic pretrains the global arch only, not " << c.model.arch);
  GLER_CHECK(c.dataset == "emotiw" || !c.augment,
             "config.augment: EmotiC has its own random crop (SEED_SPEC §5); leave augment out");
  GLER_CHECK(c.loss == LossKind::ce || c.model.arch == "local",
             "config.loss " << loss_name(c.loss) << " applies to the local arch only, not to " << c.model.arch);
  GLER_CHECK(c.loss != LossKind::lsoftmax || c.model.local_head == "lsoftmax",
             "config.loss lsoftmax needs config.model.local_head lsoftmax");
  GLER_CHECK((c.loss == LossKind::asoftmax) == (c.model.local_head == "asoftmax"),
             "config.loss asoftmax and config.model.local_head asoftmax go together");
  GLER_CHECK(!c.augment || c.model.arch == "global",
             "config.augment: the seed augments the global arch only, not " << c.model.arch);
  return c;
}

TrainConfig read_train_config(const std::filesystem::path& path) {
  try {
    return parse_train_config(json::parse_file(path.string()), path.stem().string());
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.find(path.string()) != std::string::npos) throw;
    GLER_FAIL(path.string() << ": " << what);
  }
}

json::Value to_json(const TrainConfig& c) {
  json::Value out;
  out.set("name", c.name);
  out.set("description", c.description);
  out.set("seed_compat", c.model.seed_compat);
  json::Value model;
  model.set("arch", c.model.arch);
  model.set("emotic", c.model.emotic);
  model.set("local_head", c.model.local_head);
  model.set("max_faces", c.model.max_faces);
  out.set("model", std::move(model));
  const auto shapes = models::shapes_to_metadata(c.shapes);
  if (const auto it = shapes.find("shapes"); it != shapes.end()) out.set("shapes", json::parse(it->second));
  json::Array init;
  for (const InitSource& s : c.init) {
    json::Value item;
    item.set("file", s.file);
    item.set("select", s.select);
    item.set("into", s.into);
    item.set("skip", string_array(s.skip));
    init.push_back(std::move(item));
  }
  out.set("init", std::move(init));
  out.set("train_only", string_array(c.train_only));
  json::Value opt;
  opt.set("type", c.optimizer.type);
  opt.set("lr", c.optimizer.lr);
  if (c.optimizer.type == "sgd") {
    opt.set("momentum", c.optimizer.momentum);
    opt.set("nesterov", c.optimizer.nesterov);
  } else {
    opt.set("beta1", c.optimizer.beta1);
    opt.set("beta2", c.optimizer.beta2);
    opt.set("eps", c.optimizer.eps);
  }
  opt.set("weight_decay", c.optimizer.weight_decay);
  out.set("optimizer", std::move(opt));
  json::Value sched;
  sched.set("step_size", c.schedule.step_size);
  sched.set("gamma", c.schedule.gamma);
  out.set("schedule", std::move(sched));
  out.set("epochs", c.epochs);
  out.set("epochs_full", c.epochs_full);
  out.set("batch", static_cast<long long>(c.batch));
  out.set("loss", loss_name(c.loss));
  out.set("augment", c.augment);
  out.set("dataset", c.dataset);
  return out;
}

}  // namespace gler::train
