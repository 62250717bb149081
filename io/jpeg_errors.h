// libjpeg error handling shared by the JPEG decoder and encoder. libjpeg reports a fatal error
// through error_exit, which must not return, and a C++ exception must not unwind through
// libjpeg's C frames: so error_exit longjmps back to the setjmp of the step that called libjpeg.
// Those steps hold no object with a destructor, so the jump skips nothing that needs cleanup.
#pragma once
#include <csetjmp>
#include <cstdio>  // jpeglib.h uses FILE and size_t without including their headers

#include <jerror.h>
#include <jpeglib.h>

namespace gler::io::detail {

struct JpegErrors {
  jpeg_error_mgr mgr;  // first member: libjpeg's callbacks get a pointer to it back
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {};
};

[[noreturn]] inline void jpeg_fail(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings (level -1) are ignored as Pillow ignores them, except premature end of data: libjpeg
// would pad the image with grey, Pillow raises "image file is truncated".
inline void jpeg_message(j_common_ptr cinfo, int level) {
  if (level != -1) return;  // trace messages
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_fail(cinfo);
  cinfo->err->num_warnings++;
}

inline void jpeg_print_nothing(j_common_ptr) {}

inline jpeg_error_mgr* install_jpeg_errors(JpegErrors& errors) {
  jpeg_std_error(&errors.mgr);
  errors.mgr.error_exit = jpeg_fail;
  errors.mgr.emit_message = jpeg_message;
  errors.mgr.output_message = jpeg_print_nothing;
  return &errors.mgr;
}

}  // namespace gler::io::detail
