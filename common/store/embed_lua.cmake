# Writes OUT, a C file holding each Lua script of LUA_DIR as a NUL-terminated array
# `const char cadence_lua_<stem>[]` (declared in store/scripts.h). Run at build time by the
# cadence_store target whenever a script changes: cmake -DLUA_DIR=... -DOUT=... -P embed_lua.cmake
file(GLOB scripts ${LUA_DIR}/*.lua)
list(SORT scripts)
set(text "/* Generated from the scripts in common/store/lua/ by common/store/embed_lua.cmake; do not edit. */\n")
string(APPEND text "#include \"store/scripts.h\"\n")
foreach(script ${scripts})
  get_filename_component(stem ${script} NAME_WE)
  file(READ ${script} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND text "\nconst char cadence_lua_${stem}[] = {${bytes}0x00};\n")
endforeach()
file(WRITE ${OUT}.tmp "${text}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
