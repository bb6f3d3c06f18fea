# Run at build time (cmake -P): writes build_info.h with the current git sha, only
# when it changed, so a new commit does not rebuild anything that does not print it.
execute_process(COMMAND git -C "${SRC}" rev-parse --short=12 HEAD
  OUTPUT_VARIABLE LNB_GIT_SHA OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT LNB_GIT_SHA)
  set(LNB_GIT_SHA "unknown")
else()
  execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
    OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(dirty)
    string(APPEND LNB_GIT_SHA "-dirty")
  endif()
endif()
set(PROJECT_VERSION "${VERSION}")
configure_file("${SRC}/harness/build_info.h.in" "${OUT}.tmp" @ONLY)
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
