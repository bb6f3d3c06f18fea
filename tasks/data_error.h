// The typed error for bad external input (STYLE.md rule 7): names the file, the line
// (1-based, 0 when not line-oriented), the field, what was expected, what was found
// and a hint. Thrown by every reader in tasks/; caught per task by the harness.
// It is common/'s InputError under the name tasks/ has always used, so the JSON
// readers in common/ and the benchmark readers here raise one type.
#pragma once

#include "common/errors.h"

namespace lnb::tasks {

using DataErrorInfo = common::InputErrorInfo;
using DataError = common::InputError;

}  // namespace lnb::tasks
