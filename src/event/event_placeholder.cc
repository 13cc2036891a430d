// placeholder so the component library has a translation unit
