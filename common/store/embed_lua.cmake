# Writes OUT, a C file holding each file of LUA_DIR matching GLOB (default *.lua) as a
# NUL-terminated array `const char <PREFIX><stem>[]` (PREFIX default cadence_lua_, declared in
# HEADER, default store/scripts.h) and, with SIZES=1, its length without the NUL as
# `const size_t <PREFIX><stem>_size`. Run at build time by the cadence_store target whenever a
# file changes: cmake -DLUA_DIR=... -DOUT=... [-DGLOB=*.json -DPREFIX=... -DHEADER=... -DSIZES=1]
#   -P embed_lua.cmake
# The store embeds its Lua scripts (store/lua/) and its compression dictionaries (store/dict/)
# this way.
if(NOT GLOB)
  set(GLOB "*.lua")
endif()
if(NOT PREFIX)
  set(PREFIX "cadence_lua_")
endif()
if(NOT HEADER)
  set(HEADER "store/scripts.h")
endif()
file(GLOB scripts ${LUA_DIR}/${GLOB})
list(SORT scripts)
get_filename_component(dir_name ${LUA_DIR} NAME)
set(text "/* Generated from the files of common/store/${dir_name}/ by common/store/embed_lua.cmake; do not edit. */\n")
string(APPEND text "#include \"${HEADER}\"\n")
foreach(script ${scripts})
  get_filename_component(stem ${script} NAME_WE)
  file(READ ${script} hex HEX)
  string(LENGTH "${hex}" nhex)
  math(EXPR size "${nhex} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND text "\nconst char ${PREFIX}${stem}[] = {${bytes}0x00};\n")
  if(SIZES)
    string(APPEND text "const size_t ${PREFIX}${stem}_size = ${size};\n")
  endif()
endforeach()
file(WRITE ${OUT}.tmp "${text}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
