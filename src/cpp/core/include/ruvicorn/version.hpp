#pragma once
#define RUVICORN_VERSION "0.1.0"
