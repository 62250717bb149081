// The confusion table and JSON for small hand-counted predictions.
#include <doctest/doctest.h>

#include "train/report/confusion.h"

using namespace gler;
using namespace gler::train;

namespace {

// true 0: predicted 0,1,0   true 1: 1,2   true 2: 2,2,0,2
// -> matrix [[2,1,0],[0,1,1],[1,0,3]], 6 of 9 correct, recalls 2/3, 1/2, 3/4.
ensemble::Evaluation nine() { return ensemble::evaluate({0, 0, 0, 1, 1, 2, 2, 2, 2}, {0, 1, 0, 1, 2, 2, 2, 0, 2}); }

}  // namespace

TEST_CASE("the table has true classes as rows, predictions as columns, recall and accuracy") {
  const std::string expected =
      "true \\ predicted  Negative   Neutral  Positive    recall\n"
      "Negative                 2         1         0    66.67%\n"
      "Neutral                  0         1         1    50.00%\n"
      "Positive                 1         0         3    75.00%\n"
      "accuracy 66.67% (6 of 9)\n";
  CHECK(confusion_table(nine()) == expected);
}

TEST_CASE("a class without images has no recall") {
  // true 0: predicted 0, 1   true 2: 2   (no Neutral images)
  const ensemble::Evaluation e = ensemble::evaluate({0, 0, 2}, {0, 1, 2});
  const std::string expected =
      "true \\ predicted  Negative   Neutral  Positive    recall\n"
      "Negative                 1         1         0    50.00%\n"
      "Neutral                  0         0         0         -\n"
      "Positive                 0         0         1   100.00%\n"
      "accuracy 66.67% (2 of 3)\n";
  CHECK(confusion_table(e) == expected);
  const json::Value j = confusion_json(e);
  CHECK(j.at("recall").as_array()[0].as_number() == 0.5);
  CHECK(j.at("recall").as_array()[1].is_null());
  CHECK(j.at("recall").as_array()[2].as_number() == 1.0);
  CHECK(confusion_json(ensemble::Evaluation{}).at("accuracy").is_null());
}

TEST_CASE("the JSON holds the classes, matrix[true][predicted], accuracy and recall") {
  const json::Value j = confusion_json(nine());
  const json::Array& classes = j.at("classes").as_array();
  REQUIRE(classes.size() == 3);
  CHECK(classes[0].as_string() == "Negative");
  CHECK(classes[1].as_string() == "Neutral");
  CHECK(classes[2].as_string() == "Positive");
  const int expected[3][3] = {{2, 1, 0}, {0, 1, 1}, {1, 0, 3}};
  const json::Array& matrix = j.at("matrix").as_array();
  REQUIRE(matrix.size() == 3);
  for (int t = 0; t < 3; ++t) {
    REQUIRE(matrix[t].as_array().size() == 3);
    for (int p = 0; p < 3; ++p) CHECK(matrix[t].as_array()[p].as_int() == expected[t][p]);
  }
  CHECK(j.at("total").as_int() == 9);
  CHECK(j.at("correct").as_int() == 6);
  CHECK(j.at("accuracy").as_number() == 6.0 / 9.0);
  const json::Array& recall = j.at("recall").as_array();
  REQUIRE(recall.size() == 3);
  CHECK(recall[0].as_number() == 2.0 / 3.0);
  CHECK(recall[1].as_number() == 0.5);
  CHECK(recall[2].as_number() == 0.75);
  // And it survives a dump and parse.
  CHECK(json::dump(json::parse(json::dump(j))) == json::dump(j));
}
