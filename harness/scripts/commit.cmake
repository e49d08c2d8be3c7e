# commit.cmake -DSRC=repo -DOUT=header: writes the current git commit as MLPB_GIT_COMMIT and
# its date as MLPB_GIT_COMMIT_DATE,
# touching OUT only when it changes (so an unchanged commit rebuilds nothing).
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT commit)
  set(commit unknown)
endif()
execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(dirty)
  string(APPEND commit "-dirty")
endif()
execute_process(COMMAND git log -1 --format=%cI WORKING_DIRECTORY ${SRC}
                OUTPUT_VARIABLE date OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
set(text "#define MLPB_GIT_COMMIT \"${commit}\"\n#define MLPB_GIT_COMMIT_DATE \"${date}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUT} "${text}")
endif()
