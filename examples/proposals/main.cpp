// Draws the 10 best region proposals of an image and prints them.
// Usage: proposals EXPORT_DIR IMAGE OUTPUT.png
#include <zoo/infer/predictors.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " EXPORT_DIR IMAGE OUTPUT.png\n";
    return 2;
  }
  try {
    const zoo::infer::RegionProposals rpn(argv[1]);
    cv::Mat image = cv::imread(argv[2], cv::IMREAD_COLOR);
    if (image.empty()) throw std::runtime_error(std::string(argv[2]) + ": cannot read the image");
    for (const zoo::infer::Proposal& p : rpn.propose(image, 10)) {
      std::cout << p.score << "\t" << p.box[0] << " " << p.box[1] << " " << p.box[2] << " " << p.box[3] << "\n";
      cv::rectangle(image, cv::Point2d(p.box[0], p.box[1]), cv::Point2d(p.box[2], p.box[3]), cv::Scalar(0, 0, 255), 2);
    }
    if (!cv::imwrite(argv[3], image)) throw std::runtime_error(std::string(argv[3]) + ": cannot write");
  } catch (const std::exception& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
