#ifndef C_KARBON_YAML_SHIM_H
#define C_KARBON_YAML_SHIM_H

#include <yaml.h>

#endif
