# OpenCV core + imgproc + imgcodecs as the target lnb_opencv. Debian ships
# OpenCVConfig.cmake only in the all-modules libopencv-dev (which pulls VTK, Qt...);
# the three component -dev packages lnbench needs carry headers and .so files only,
# so we locate those directly. An OpenCVConfig.cmake, where present, is used first.
find_package(OpenCV 4 QUIET COMPONENTS core imgproc imgcodecs)
add_library(lnb_opencv INTERFACE)
if(OpenCV_FOUND)
  target_link_libraries(lnb_opencv INTERFACE ${OpenCV_LIBS})
  target_include_directories(lnb_opencv SYSTEM INTERFACE ${OpenCV_INCLUDE_DIRS})
  message(STATUS "lnbench: OpenCV ${OpenCV_VERSION} (OpenCVConfig.cmake)")
  return()
endif()
find_path(LNB_OPENCV_INCLUDE opencv2/core/version.hpp PATH_SUFFIXES opencv4 REQUIRED)
foreach(m core imgproc imgcodecs)
  find_library(LNB_OPENCV_${m} NAMES opencv_${m} REQUIRED)
  target_link_libraries(lnb_opencv INTERFACE ${LNB_OPENCV_${m}})
endforeach()
target_include_directories(lnb_opencv SYSTEM INTERFACE ${LNB_OPENCV_INCLUDE})
file(STRINGS "${LNB_OPENCV_INCLUDE}/opencv2/core/version.hpp" _v REGEX "#define CV_VERSION_(MAJOR|MINOR) ")
string(REGEX MATCHALL "[0-9]+" _v "${_v}")
string(REPLACE ";" "." _v "${_v}")
message(STATUS "lnbench: OpenCV ${_v} from ${LNB_OPENCV_INCLUDE}")
