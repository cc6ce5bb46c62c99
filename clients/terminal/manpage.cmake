# Renders the man page: cmark's man renderer gives the body; the .TH line
# that names the page and its section comes first.
execute_process(COMMAND ${CMARK} -t man ${IN} OUTPUT_VARIABLE body RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmark failed on ${IN}")
endif()
file(WRITE ${OUT} ".TH CAMPUS 1 \"\" \"Campus\" \"User Commands\"\n${body}")
